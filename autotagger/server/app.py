"""The FastAPI application: the `/v1` API of `autotagger/api/openapi.json`, its signed byte URLs,
the document itself at `/openapi.json` and (when present) the dashboard.

Every answer other than 2xx is the document's one error shape, `{"error": code, "message"}`:
the read API's own errors (`autotagger.api.service.error_response`), the upload rules', unknown
routes and methods, and anything unexpected.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from autotagger.api import openapi_document
from autotagger.api.service import ApiError, error_response
from autotagger.contracts import MAX_KEY_BYTES
from autotagger.errors import InvalidCursor
from autotagger.server import api_routes, object_routes, url_routes
from autotagger.server.backend import PipelineBackend
from autotagger.server.security import ApiKeyMiddleware, SecurityHeadersMiddleware
from autotagger.server.upload_rules import ERROR_CODES, UploadRejected

logger = logging.getLogger(__name__)

KEY_SCHEMA = {
    "minLength": 1, "maxLength": MAX_KEY_BYTES, "pattern": "^[^\\x00-\\x1f\\x7f]+$",
    "description": f"The object key, percent-encoded (`/` as `%2F`); at most {MAX_KEY_BYTES} bytes of UTF-8, "
                   "no control characters.",
}


def _error(status: int, error: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error, "message": message}, status_code=status, headers=headers)


def create_app(pipeline: PipelineBackend, *, api_key: str | None = None) -> FastAPI:
    # FastAPI's generated document is off: /openapi.json is the repository's, the one API Gateway gets.
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.pipeline = pipeline
    document = served_document(pipeline.bucket_name)

    @app.exception_handler(ApiError)
    @app.exception_handler(InvalidCursor)
    async def _api_error(request: Request, exc: Exception) -> JSONResponse:
        status, body = error_response(exc)
        return _error(status, body["error"], body["message"])

    @app.exception_handler(UploadRejected)
    async def _rejected(request: Request, exc: UploadRejected) -> JSONResponse:
        return _error(exc.status_code, exc.error, exc.detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = (f"no route {request.method} {request.url.path}" if exc.status_code == 404
                   else f"{request.method} is not allowed on {request.url.path}" if exc.status_code == 405
                   else str(exc.detail))
        return _error(exc.status_code, ERROR_CODES.get(exc.status_code, "invalid_request"), message,
                      headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(part) for part in error.get('loc', ()))}: {error.get('msg')}"
                             for error in exc.errors())
        return _error(400, "invalid_parameter", problems or "invalid request")

    @app.exception_handler(Exception)
    async def _failed(request: Request, exc: Exception) -> JSONResponse:
        logger.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        status, body = error_response(exc)
        return _error(status, body["error"], body["message"])

    @app.get("/openapi.json")
    def openapi() -> dict[str, Any]:
        return document

    @app.get("/docs")
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="autotagger API")

    @app.get("/redoc")
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url="/openapi.json", title="autotagger API")

    app.include_router(url_routes.router)  # before object_routes: `/v1/_local/...` is not a bucket
    app.include_router(object_routes.router)
    app.include_router(api_routes.router)
    _mount_dashboard(app)

    if api_key:
        app.add_middleware(ApiKeyMiddleware, api_key=api_key)
    app.add_middleware(SecurityHeadersMiddleware)  # added last: outermost, so 401s carry the headers too
    return app


def served_document(bucket: str) -> dict[str, Any]:
    """The OpenAPI document with this server's one bucket and the key rules in the object path
    parameters, so clients (and API fuzzers) know them; the routes enforce them with a 400/403."""
    document = openapi_document()
    for item in document.get("paths", {}).values():
        operations = [item] + [op for method, op in item.items() if method in {"get", "put", "post", "delete"}]
        for operation in operations:
            for parameter in operation.get("parameters", []):
                if parameter.get("in") != "path":
                    continue
                if parameter.get("name") == "bucket":
                    parameter["schema"] = {**parameter.get("schema", {}), "enum": [bucket]}
                elif parameter.get("name") == "object":
                    parameter["schema"] = {**parameter.get("schema", {}), **KEY_SCHEMA}
    return document


def _mount_dashboard(app: FastAPI) -> None:
    """The dashboard is an optional part: the API works without it."""
    try:
        dashboard = importlib.import_module("autotagger.dashboard")
    except ModuleNotFoundError as exc:
        if exc.name != "autotagger.dashboard":
            raise
        return
    mount = getattr(dashboard, "mount", None)
    if mount is not None:
        mount(app)
