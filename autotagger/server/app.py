"""The FastAPI application: upload API, JSON API, OpenAPI document and (when present) the dashboard."""

from __future__ import annotations

import importlib

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from autotagger import __version__
from autotagger.contracts import MAX_KEY_BYTES
from autotagger.server import api_routes, object_routes
from autotagger.server.backend import PipelineBackend
from autotagger.server.security import ApiKeyMiddleware, SecurityHeadersMiddleware
from autotagger.server.upload_rules import UploadRejected

KEY_SCHEMA = {
    "minLength": 1, "maxLength": MAX_KEY_BYTES, "pattern": "^[^\\x00-\\x1f\\x7f]+$",
    "description": f"The object key, percent-encoded (`/` as `%2F`); at most {MAX_KEY_BYTES} bytes of UTF-8, "
                   "no control characters.",
}


def create_app(pipeline: PipelineBackend, *, api_key: str | None = None) -> FastAPI:
    app = FastAPI(
        title="autotagger",
        version=__version__,
        description="Upload images; they are tagged by the image-tagging workflow and searchable by tag.",
    )
    app.state.pipeline = pipeline

    @app.exception_handler(UploadRejected)
    async def _rejected(request: Request, exc: UploadRejected) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    app.include_router(object_routes.router)
    app.include_router(api_routes.router)
    _mount_dashboard(app)

    _document_object_path(app, pipeline.bucket_name)
    if api_key:
        app.add_middleware(ApiKeyMiddleware, api_key=api_key)
    app.add_middleware(SecurityHeadersMiddleware)  # added last: outermost, so 401s carry the headers too
    return app


def _document_object_path(app: FastAPI, bucket: str) -> None:
    """Names the one bucket served and the key rules in /openapi.json, so clients (and API fuzzers)
    know them; the rules themselves are enforced by the routes with a 400/403."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            for path, operations in schema.get("paths", {}).items():
                if path.startswith("/v1/"):
                    for operation in operations.values():
                        for parameter in operation.get("parameters", []):
                            if parameter.get("name") == "bucket":
                                parameter["schema"]["enum"] = [bucket]
                            elif parameter.get("name") == "key":
                                parameter["schema"].update(KEY_SCHEMA)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi


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
