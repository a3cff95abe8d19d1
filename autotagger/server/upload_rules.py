"""What an upload must look like before anything is stored.

The limits and media types are the upload API's contract (`autotagger.contracts`), the same ones
API Gateway + S3 enforce, so a request that works locally also works against the AWS stack.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.convertors import Convertor, register_url_convertor

from autotagger.contracts import ACCEPTED_MEDIA_TYPES, MAX_KEY_BYTES, MAX_UPLOAD_BYTES


# `{key:objectkey}` in a route path: the object key, which may hold `/`.
class ObjectKeyConvertor(Convertor[str]):
    """Like Starlette's `path`, but also matches keys holding a newline (`%0A`), so such keys get a
    clear 400 from the key rules instead of an unexplained 404."""

    regex = r"[\s\S]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("objectkey", ObjectKeyConvertor())

# The error codes of the OpenAPI document's `Error` schema, by status.
ERROR_CODES = {400: "invalid_parameter", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type", 500: "internal_error"}


class UploadRejected(Exception):
    """A request the API refuses, with the HTTP status and the error code that say why."""

    def __init__(self, status_code: int, detail: str, error: str | None = None):
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
        self.error = error or ERROR_CODES.get(status_code, "invalid_request")


def split_object_path(raw_path: bytes, prefix: str = "/v1/") -> tuple[str, str]:
    """(bucket, key) from the still-encoded request path, percent-decoded exactly once.

    Working on the raw path keeps `%2F` inside the key from being confused with the separator
    after the bucket, a literal `%252F` arrives as `%2F`, and `+` stays `+` (paths are not forms).
    """
    raw = raw_path if isinstance(raw_path, bytes) else raw_path.encode("utf-8")
    start = raw.find(prefix.encode("ascii"))  # after any root path the server was mounted under
    if start < 0:
        raise UploadRejected(404, "not found")
    bucket_part, sep, key_part = raw[start + len(prefix):].partition(b"/")
    if not sep or not key_part:
        raise UploadRejected(400, "the path must be /v1/{bucket}/{object key}")
    try:
        return (unquote_to_bytes(bucket_part).decode("utf-8", errors="strict"),
                unquote_to_bytes(key_part).decode("utf-8", errors="strict"))
    except UnicodeDecodeError:
        raise UploadRejected(400, "the bucket or object key is not valid UTF-8 once percent-decoded") from None


def check_key(key: str) -> None:
    if not key:
        raise UploadRejected(400, "the object key is empty")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise UploadRejected(400, "the object key is not valid UTF-8") from None
    if size > MAX_KEY_BYTES:
        raise UploadRejected(400, f"the object key is {size} bytes; S3 keys are at most {MAX_KEY_BYTES} bytes of UTF-8")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in key):
        raise UploadRejected(400, "the object key contains control characters")


def check_media_type(content_type: str | None) -> str:
    """The accepted media type (lower case, without parameters); absent means octet-stream."""
    media_type = (content_type or "application/octet-stream").split(";", 1)[0].strip().lower()
    if media_type not in ACCEPTED_MEDIA_TYPES:
        raise UploadRejected(415, f"unsupported media type {media_type!r}: "
                                  f"send one of {', '.join(ACCEPTED_MEDIA_TYPES)}")
    return media_type


def check_declared_length(content_length: str | None) -> None:
    """Refuses early when the client announces too much; the body is still counted while read."""
    if content_length is None:
        return
    try:
        length = int(content_length)
    except ValueError:
        raise UploadRejected(400, "invalid Content-Length") from None
    if length > MAX_UPLOAD_BYTES:
        raise UploadRejected(413, f"the body is {length} bytes; uploads are limited to {MAX_UPLOAD_BYTES} bytes "
                                  "(10 MiB; larger images: POST /v1/uploads)")
    if length == 0:
        raise UploadRejected(400, "the body is empty: send the image bytes", "invalid_body")


class BodyTooLarge(UploadRejected):
    def __init__(self) -> None:
        super().__init__(413, f"the body exceeds {MAX_UPLOAD_BYTES} bytes; uploads are limited to 10 MiB")
