"""`PUT|DELETE /v1/{bucket}/{key}`: the S3-proxy API the AWS sample exposes through API Gateway.

Answers like API Gateway's S3 integration (200 with an empty body on PUT) and refuses anything
that could not become a tagged image before storing a byte: a request that is refused loses
nothing because nothing was accepted.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor

from autotagger.contracts import ACCEPTED_MEDIA_TYPES, MAX_UPLOAD_BYTES
from autotagger.server.models import ErrorBody
from autotagger.server.upload_rules import (
    BodyTooLarge,
    UploadRejected,
    check_declared_length,
    check_key,
    check_media_type,
    split_object_path,
)


class ObjectKeyConvertor(Convertor[str]):
    """Like Starlette's `path`, but also matches keys holding a newline (`%0A`), so such keys get a
    clear 400 from the key rules instead of an unexplained 404."""

    regex = r"[\s\S]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("objectkey", ObjectKeyConvertor())

router = APIRouter(tags=["objects"])

_ERRORS = {
    400: {"model": ErrorBody, "description": "Empty body or invalid key"},
    403: {"model": ErrorBody, "description": "Not the configured bucket"},
    413: {"model": ErrorBody, "description": "Body over 10 MiB"},
    415: {"model": ErrorBody, "description": "Unsupported media type"},
}
_BINARY = {"schema": {"type": "string", "format": "binary"}}


def _key(request: Request) -> str:
    """The key, read from the raw path (see split_object_path): the routes' `bucket` and `key`
    parameters only document the path in OpenAPI. 403 for another bucket, 400 for a bad key."""
    raw_path = request.scope.get("raw_path") or request.url.path.encode("ascii")
    bucket, key = split_object_path(raw_path)
    if bucket != request.app.state.pipeline.bucket_name:
        raise UploadRejected(403, f"access denied: bucket {bucket!r} is not served here")
    check_key(key)
    return key


async def _read_body(request: Request) -> bytes:
    """The whole body, refusing as soon as it grows past the limit (never buffers more)."""
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > MAX_UPLOAD_BYTES:
            raise BodyTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


@router.put(
    "/v1/{bucket}/{key:objectkey}",
    summary="Upload an image (S3 PutObject through the API)",
    status_code=200,
    response_class=Response,
    responses={200: {"description": "Stored; tagging has been scheduled durably", "content": {}}, **_ERRORS},
    openapi_extra={"requestBody": {"required": True, "content": {t: _BINARY for t in ACCEPTED_MEDIA_TYPES}}},
)
async def put_object(bucket: str, key: str, request: Request) -> Response:
    key = _key(request)
    media_type = check_media_type(request.headers.get("content-type"))
    check_declared_length(request.headers.get("content-length"))
    data = await _read_body(request)
    if not data:
        raise UploadRejected(400, "the body is empty: send the image bytes")
    stored = await run_in_threadpool(request.app.state.pipeline.upload, key, data, media_type)
    return Response(status_code=200, headers={"ETag": f'"{stored.etag}"'})


@router.options("/v1/{bucket}/{key:objectkey}", include_in_schema=False)
async def object_options() -> Response:
    """Both methods of the path in `Allow` (two routes would each answer with their own only)."""
    return Response(status_code=204, headers={"Allow": "PUT, DELETE, OPTIONS"})


@router.delete(
    "/v1/{bucket}/{key:objectkey}",
    summary="Delete an image (S3 DeleteObject); the index follows through the workflow",
    status_code=204,
    response_class=Response,
    responses={204: {"description": "Deleted (or already absent, as S3 answers)"},
               400: _ERRORS[400], 403: _ERRORS[403]},
)
async def delete_object(bucket: str, key: str, request: Request) -> Response:
    key = _key(request)
    await run_in_threadpool(request.app.state.pipeline.delete, key)
    return Response(status_code=204)
