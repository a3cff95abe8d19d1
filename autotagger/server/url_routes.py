"""`GET|PUT /v1/_local/{bucket}/{object}`: the signed, expiring URLs of the local runtime
(`autotagger.local.read_adapters.LocalImageUrls`), what presigned S3 URLs are on AWS.

The signature is the authorization (no API key: an `<img src>` cannot send one). A GET reads the
image bytes; a PUT stores a body of exactly the type and size that were signed, up to the read
API's upload maximum (beyond the direct PUT's 10 MiB), and stores it as `PUT /v1/{bucket}/{object}`
does: the same pipeline call, the same events, the same outcome. Like S3, every mismatch with what
was signed is a 403.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from autotagger.local.read_adapters import SIGNED_PREFIX, UrlRefused
from autotagger.server.object_routes import read_body
from autotagger.server.upload_rules import UploadRejected, check_key, split_object_path

router = APIRouter()


def _signed(request: Request, method: str) -> tuple[str, str, int | None]:
    """(key, content type, size) the URL allows for this request; UploadRejected otherwise."""
    raw_path = request.scope.get("raw_path") or request.url.path.encode("ascii")
    bucket, key = split_object_path(raw_path, prefix=SIGNED_PREFIX)
    pipeline = request.app.state.pipeline
    try:
        content_type, size = pipeline.image_urls.verify(method, bucket, key, dict(request.query_params))
    except UrlRefused as refused:
        raise UploadRejected(403, refused.reason) from None
    if bucket != pipeline.bucket_name:
        raise UploadRejected(403, f"access denied: bucket {bucket!r} is not served here")
    check_key(key)
    return key, content_type, size


@router.get(SIGNED_PREFIX + "{bucket}/{key:objectkey}")
def get_signed_object(request: Request) -> Response:
    key, _, _ = _signed(request, "GET")
    found = request.app.state.pipeline.read_object(key)
    if found is None:
        raise UploadRejected(404, f"no object {key!r} in the bucket")
    data, content_type = found
    # Private: the URL is a credential; short: it expires.
    return Response(data, media_type=content_type, headers={"Cache-Control": "private, max-age=60"})


@router.put(SIGNED_PREFIX + "{bucket}/{key:objectkey}")
async def put_signed_object(request: Request) -> Response:
    key, content_type, size = _signed(request, "PUT")
    assert size is not None  # a PUT signature always covers the size
    sent_type = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if sent_type != content_type:
        raise UploadRejected(403, f"the URL was signed for Content-Type {content_type}, not {sent_type or 'none'}: "
                                  "send the headers the upload ticket names")
    declared = request.headers.get("content-length")
    if declared is not None and declared != str(size):
        raise UploadRejected(403, f"the URL was signed for a body of {size} bytes, not {declared}")

    def too_large() -> UploadRejected:
        return UploadRejected(403, f"the body is longer than the {size} bytes the URL was signed for")

    data = await read_body(request, limit=size, too_large=too_large)
    if len(data) != size:
        raise UploadRejected(403, f"the body is {len(data)} bytes; the URL was signed for {size}")
    stored = await run_in_threadpool(request.app.state.pipeline.upload, key, data, content_type)
    return Response(status_code=200, headers={"ETag": f'"{stored.etag}"'})
