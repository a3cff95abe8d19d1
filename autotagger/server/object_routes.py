"""`PUT|DELETE /v1/{bucket}/{key}`: the S3-proxy API the AWS sample exposes through API Gateway.

Answers like API Gateway's S3 integration (200 with an empty body on PUT) and refuses anything
that could not become a tagged image before storing a byte: a request that is refused loses
nothing because nothing was accepted.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from autotagger.contracts import MAX_UPLOAD_BYTES
from autotagger.server.upload_rules import (
    BodyTooLarge,
    UploadRejected,
    check_declared_length,
    check_key,
    check_media_type,
    split_object_path,
)

router = APIRouter()



def _key(request: Request) -> str:
    """The key, read from the raw path (see split_object_path): the routes' `bucket` and `key`
    parameters only document the path in OpenAPI. 403 for another bucket, 400 for a bad key."""
    raw_path = request.scope.get("raw_path") or request.url.path.encode("ascii")
    bucket, key = split_object_path(raw_path)
    if bucket != request.app.state.pipeline.bucket_name:
        raise UploadRejected(403, f"access denied: bucket {bucket!r} is not served here")
    check_key(key)
    return key


async def read_body(request: Request, limit: int = MAX_UPLOAD_BYTES,
                    too_large: Callable[[], UploadRejected] = BodyTooLarge) -> bytes:
    """The whole body, refusing as soon as it grows past `limit` (never buffers more)."""
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise too_large()
        chunks.append(chunk)
    return b"".join(chunks)


@router.put("/v1/{bucket}/{key:objectkey}", response_class=Response)
async def put_object(bucket: str, key: str, request: Request) -> Response:
    key = _key(request)
    media_type = check_media_type(request.headers.get("content-type"))
    check_declared_length(request.headers.get("content-length"))
    data = await read_body(request)
    if not data:
        raise UploadRejected(400, "the body is empty: send the image bytes", "invalid_body")
    stored = await run_in_threadpool(request.app.state.pipeline.upload, key, data, media_type)
    return Response(status_code=200, headers={"ETag": f'"{stored.etag}"'})


@router.options("/v1/{bucket}/{key:objectkey}")
async def object_options() -> Response:
    """Both methods of the path in `Allow` (two routes would each answer with their own only)."""
    return Response(status_code=204, headers={"Allow": "PUT, DELETE, OPTIONS"})


@router.delete("/v1/{bucket}/{key:objectkey}", status_code=204, response_class=Response)
async def delete_object(bucket: str, key: str, request: Request) -> Response:
    key = _key(request)
    await run_in_threadpool(request.app.state.pipeline.delete, key)
    return Response(status_code=204)
