"""The read routes of `/v1` (search, statistics, executions, dead letters, upload tickets), each a
call of the pipeline's `ReadApi` (`autotagger.api.service`), the one place their semantics live:
the API Lambda calls the same methods. Plus what only the local runtime answers: the dashboard's
counters (`/v1/summary`), what became of an upload (`/v1/uploads/{bucket}/{object}`) and `/healthz`.

Read handlers are plain functions: FastAPI runs them in its thread pool, so the SQLite-backed
adapters never block the event loop that keeps accepting uploads.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from autotagger.api.service import ReadApi
from autotagger.server.object_routes import read_body
from autotagger.server.upload_rules import UploadRejected, check_key, split_object_path

router = APIRouter()
# The JSON bodies of the API are a few hundred bytes; more is refused before it is all read.
MAX_JSON_BODY_BYTES = 1024 * 1024


async def _json_body(request: Request) -> bytes:
    def too_large() -> UploadRejected:
        return UploadRejected(400, f"the body is over {MAX_JSON_BODY_BYTES} bytes: send the JSON the API documents",
                              "invalid_body")

    return await read_body(request, limit=MAX_JSON_BODY_BYTES, too_large=too_large)


def _api(request: Request) -> ReadApi:
    return request.app.state.pipeline.read_api


def _query(request: Request) -> dict[str, list[str]]:
    """The query string as a multi-value mapping, as API Gateway hands it to the Lambda."""
    return {name: request.query_params.getlist(name) for name in request.query_params}


def _absolute(request: Request, url: str) -> str:
    """The local URL adapter signs paths; this server's own origin makes them usable anywhere."""
    return str(request.base_url).rstrip("/") + url if url.startswith("/") else url


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/v1/images")
def search_images(request: Request) -> dict[str, Any]:
    return _api(request).search_images(_query(request))


@router.get("/v1/images/{image_id}")
def get_image(image_id: str, request: Request) -> dict[str, Any]:
    image = _api(request).get_image(image_id)
    return {**image, "image_url": _absolute(request, image["image_url"])}


@router.get("/v1/stats/tags")
def tag_stats(request: Request) -> list[dict[str, Any]]:
    return _api(request).tag_stats(_query(request))


@router.get("/v1/stats/images")
def image_stats(request: Request) -> list[dict[str, Any]]:
    return _api(request).image_stats(_query(request))


@router.get("/v1/executions")
def list_executions(request: Request) -> dict[str, Any]:
    return _api(request).list_executions(_query(request))


@router.get("/v1/executions/{name:path}")  # a Map Run child's name carries its label: `<label>:<id>` or with "/"
def get_execution(name: str, request: Request) -> dict[str, Any]:
    return _api(request).get_execution(name)


@router.get("/v1/dead-letters")
def list_dead_letters(request: Request) -> dict[str, list[dict[str, Any]]]:
    return _api(request).list_dead_letters(_query(request))


@router.post("/v1/dead-letters/redrive")
async def redrive(request: Request) -> dict[str, list[str]]:
    body = await _json_body(request)
    return await run_in_threadpool(_api(request).redrive, body)


@router.post("/v1/uploads")
async def create_upload(request: Request) -> dict[str, Any]:
    body = await _json_body(request)
    ticket = await run_in_threadpool(_api(request).create_upload, body)
    return {**ticket, "url": _absolute(request, ticket["url"])}


@router.get("/v1/summary")
def summary(request: Request) -> dict[str, Any]:
    return request.app.state.pipeline.summary()


UPLOADS_PREFIX = "/v1/uploads/"


@router.get(UPLOADS_PREFIX + "{bucket}/{key:objectkey}")
def upload_outcome(request: Request) -> dict[str, Any]:
    # The raw path, as the upload API reads it, so `%2F` in the key stays part of the key.
    bucket, key = split_object_path(request.scope.get("raw_path") or request.url.path.encode("ascii"),
                                    prefix=UPLOADS_PREFIX)
    check_key(key)  # 400 for a key no upload could have, as the upload API answers
    outcome = request.app.state.pipeline.upload_outcome(bucket, key)
    if outcome is None:
        raise UploadRejected(404, f"no object {key!r} in bucket {bucket!r}")
    return outcome
