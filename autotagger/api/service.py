"""The read routes of the `/v1` API, once for both runtimes (the FastAPI server and the Lambda).

Each method takes what the HTTP layer hands over untouched (path values, the query string as a
multi-value mapping, the raw body) and returns the JSON answer, or raises `ApiError` with the
status and the `{"error", "message"}` body the OpenAPI document (`autotagger/api/openapi.json`)
declares. Parameter rules and error mapping live only here, so a request that is refused (or
answered) by one runtime is refused (or answered) alike by the other.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from autotagger.contracts import IMAGE_MEDIA_TYPES
from autotagger.errors import InvalidCursor
from autotagger.index.query import MAX_TEXT_CHARS, words
from autotagger.local.stores import describe_dead_letter
from autotagger.ports import DeadLetterQueue, ExecutionLookup, ImageIndex, ImageUrls

# The limits the OpenAPI document declares (tests/unit/api checks both say the same).
MAX_SEARCH_LIMIT = 500
DEFAULT_SEARCH_LIMIT = 50
MAX_TAGS = 20
MAX_TOP = 1000
MAX_LIST_LIMIT = 1000
DEFAULT_EXECUTIONS_LIMIT = 50
DEFAULT_DEAD_LETTERS_LIMIT = 100
INTERVALS = ("hour", "day", "week", "month")
EXECUTION_STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
# Uploads go straight to the bucket (a presigned S3 PUT on AWS), so API Gateway's 10 MiB payload
# limit does not apply; a single S3 PUT takes up to 5 GiB. Images above Rekognition's 15 MB are
# normalised first (the Normalize task reads up to contracts.MAX_SOURCE_BYTES, 64 MB).
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
UPLOAD_MEDIA_TYPES = tuple(media_type for media_type, _ in IMAGE_MEDIA_TYPES)  # contracts' image table
MAX_KEY_BYTES = 1024  # S3's key limit
IMAGE_URL_TTL_S = 300
UPLOAD_URL_TTL_S = 900
# Listing SQS dead letters receives them; they stay hidden from other readers at most this long.
LIST_VISIBILITY_TIMEOUT_S = 30

QueryParams = Mapping[str, Sequence[str] | str | None]


class ApiError(Exception):
    """An answer other than 2xx: the HTTP status and the `{"error": code, "message"}` body."""

    def __init__(self, status: int, error: str, message: str):
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message

    def body(self) -> dict[str, str]:
        return {"error": self.error, "message": self.message}


def error_response(exc: BaseException) -> tuple[int, dict[str, str]]:
    """(status, body) for any exception a route raised. Anything unexpected is a 500 whose message
    does not leak internals (the runtime logs the exception itself)."""
    if isinstance(exc, ApiError):
        return exc.status, exc.body()
    if isinstance(exc, InvalidCursor):
        return 400, {"error": "invalid_cursor", "message": str(exc) or "the cursor is not one this API issued"}
    return 500, {"error": "internal_error", "message": "the server failed to answer; the error is logged"}


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


def _invalid(message: str) -> ApiError:
    return ApiError(400, "invalid_parameter", message)


class _Query:
    """The query string, one parameter at a time, checked against the rules of the document."""

    def __init__(self, params: QueryParams | None):
        self._params = {
            name: ([values] if isinstance(values, str) else list(values or ()))
            for name, values in (params or {}).items()
        }

    def all(self, name: str) -> list[str]:
        return [value for value in self._params.get(name, []) if value != ""]

    def one(self, name: str) -> str | None:
        values = self.all(name)
        return values[-1] if values else None  # the last one, as Starlette and API Gateway take it

    def integer(self, name: str, default: int, minimum: int, maximum: int) -> int:
        text = self.one(name)
        if text is None:
            return default
        try:
            value = int(text)
        except ValueError:
            raise _invalid(f"{name} must be an integer, not {text!r}") from None
        if not minimum <= value <= maximum:
            raise _invalid(f"{name} must be between {minimum} and {maximum}, not {value}")
        return value

    def number(self, name: str, default: float, minimum: float, maximum: float) -> float:
        text = self.one(name)
        if text is None:
            return default
        try:
            value = float(text)
        except ValueError:
            raise _invalid(f"{name} must be a number, not {text!r}") from None
        if not minimum <= value <= maximum:  # also refuses nan
            raise _invalid(f"{name} must be between {minimum:g} and {maximum:g}, not {text}")
        return value

    def choice(self, name: str, choices: Sequence[str]) -> str | None:
        value = self.one(name)
        if value is None:
            return None
        if value not in choices:
            raise _invalid(f"{name} must be one of {', '.join(choices)}, not {value!r}")
        return value

    def time(self, name: str) -> str | None:
        value = self.one(name)
        if value is None:
            return None
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise _invalid(f"{name} must be an ISO 8601 date or time, not {value!r}") from None
        return value

    def confidence(self) -> float:
        return self.number("min_confidence", 0.0, 0.0, 100.0)

    def boolean(self, name: str) -> bool:
        value = self.one(name)
        if value is None:
            return False
        if value.lower() not in ("true", "false"):  # any case: `True` is how some clients write it
            raise _invalid(f"{name} must be true or false, not {value!r}")
        return value.lower() == "true"

    def text(self, name: str) -> str | None:
        value = self.one(name)
        if value is None:
            return None
        if len(value) > MAX_TEXT_CHARS:
            raise _invalid(f"{name} is {len(value)} characters; at most {MAX_TEXT_CHARS}")
        if not words(value):
            raise _invalid(f"{name} must hold a word (letters or digits), not {value!r}")
        return value


def _json_body(body: bytes | str | None) -> Any:
    """The request body parsed as JSON; None when there is none."""
    if body is None or (isinstance(body, (bytes, str)) and not body.strip()):
        return None
    try:
        return json.loads(body)
    except ValueError:  # UnicodeDecodeError is one too
        raise ApiError(400, "invalid_body", "the request body is not JSON") from None


def _object(body: Any, allowed: set[str], what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", f"the body must be a JSON object: {what}")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ApiError(400, "invalid_body", f"unknown field(s) {', '.join(unknown)}: the body is {what}")
    return body


def check_key(key: Any) -> str:
    """An S3 object key the API accepts: 1 to 1024 bytes of UTF-8 without control characters."""
    if not isinstance(key, str) or not key:
        raise _invalid("key must be a non-empty string")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise _invalid("key is not valid UTF-8") from None
    if size > MAX_KEY_BYTES:
        raise _invalid(f"key is {size} bytes; S3 keys are at most {MAX_KEY_BYTES} bytes of UTF-8")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in key):
        raise _invalid("key contains control characters")
    return key


class ReadApi:
    """The read side of the API over its ports; one instance per process is enough (no state of
    its own). `dead_letters` are listed in the given order, which is also the order a redrive
    looks for message ids in."""

    def __init__(
        self, index: ImageIndex, executions: ExecutionLookup, dead_letters: Sequence[DeadLetterQueue], urls: ImageUrls
    ):
        self.index = index
        self.executions = executions
        self.dead_letters = list(dead_letters)
        self.urls = urls

    # -- images ------------------------------------------------------------------------------

    def search_images(self, params: QueryParams | None = None) -> dict[str, Any]:
        """GET /v1/images: every tag must match (case-insensitively, the index's rule) and every word
        of `text` be in the image's text; `safe=true` leaves flagged images out; newest first."""
        query = _Query(params)
        tags = query.all("tag")
        if len(tags) > MAX_TAGS:
            raise _invalid(f"at most {MAX_TAGS} tag parameters, not {len(tags)}")
        arguments: dict[str, Any] = {
            "tags": tags or None,
            "min_confidence": query.confidence(),
            "limit": query.integer("limit", DEFAULT_SEARCH_LIMIT, 0, MAX_SEARCH_LIMIT),
            "since": query.time("since"),
            "until": query.time("until"),
        }
        cursor = query.one("cursor")
        if cursor is not None:  # only then: an index without cursors still answers every first page
            arguments["cursor"] = cursor
        text, safe = query.text("text"), query.boolean("safe")
        if text is not None:  # likewise: only a search that asks for them needs an index that has them
            arguments["text"] = text
        if safe:
            arguments["safe"] = True
        found = self.index.search(**arguments)
        return {"total": found["total"], "images": found["images"], "next_cursor": found.get("next_cursor")}

    def get_image(self, image_id: str) -> dict[str, Any]:
        """GET /v1/images/{id}: the document and a short-lived URL to the image bytes: those of the
        object that was analysed (a normalised derivative: upright, a JPEG every browser shows, so
        the labels' boxes line up with what is drawn), the original's when it was analysed itself."""
        document = self.index.get(image_id)
        if document is None:
            raise not_found(f"no image {image_id!r} in the index")
        shown = document.get("analyzed_key") or document["key"]
        return {**document, "image_url": self.urls.download_url(document["bucket"], shown, IMAGE_URL_TTL_S)}

    # -- statistics ----------------------------------------------------------------------------

    def tag_stats(self, params: QueryParams | None = None) -> list[dict[str, Any]]:
        """GET /v1/stats/tags: [{"tag", "count"}], most frequent first."""
        query = _Query(params)
        return self.index.tag_counts(
            top=query.integer("top", 20, 1, MAX_TOP),
            min_confidence=query.confidence(),
            since=query.time("since"),
            until=query.time("until"),
        )

    def image_stats(self, params: QueryParams | None = None) -> list[dict[str, Any]]:
        """GET /v1/stats/images: [{"time", "count"}] per interval, oldest first."""
        query = _Query(params)
        return self.index.image_counts(
            interval=query.choice("interval", INTERVALS) or "day",
            since=query.time("since"),
            until=query.time("until"),
            min_confidence=query.confidence(),
        )

    # -- executions ----------------------------------------------------------------------------

    def list_executions(self, params: QueryParams | None = None) -> dict[str, Any]:
        """GET /v1/executions: {"executions", "next_cursor"}, newest first."""
        query = _Query(params)
        key = query.one("key")
        if key is not None:
            check_key(key)
        found = self.executions.list(
            status=query.choice("status", EXECUTION_STATUSES),
            key=key,
            limit=query.integer("limit", DEFAULT_EXECUTIONS_LIMIT, 1, MAX_LIST_LIMIT),
            cursor=query.one("cursor"),
        )
        return {"executions": found["executions"], "next_cursor": found.get("next_cursor")}

    def get_execution(self, name: str) -> dict[str, Any]:
        """GET /v1/executions/{name}: the history state by state and the state that failed."""
        detail = self.executions.describe(name)
        if detail is None:
            raise not_found(f"no execution {name!r}")
        return detail

    # -- dead letters --------------------------------------------------------------------------

    def list_dead_letters(self, params: QueryParams | None = None) -> dict[str, list[dict[str, Any]]]:
        """GET /v1/dead-letters: {queue name: [message with its reason]}."""
        limit = _Query(params).integer("limit", DEFAULT_DEAD_LETTERS_LIMIT, 1, MAX_LIST_LIMIT)
        return {
            queue.name: [
                describe_dead_letter(m) for m in queue.list(limit=limit, visibility_timeout_s=LIST_VISIBILITY_TIMEOUT_S)
            ]
            for queue in self.dead_letters
        }

    def redrive(self, body: bytes | str | None = None) -> dict[str, list[str]]:
        """POST /v1/dead-letters/redrive with `{"message_ids": [...]}` (every queue's messages when
        absent): each message re-submitted at most once, however often this is called."""
        request = _json_body(body)
        message_ids = None
        if request is not None:
            message_ids = _object(request, {"message_ids"}, '{"message_ids": [message id, ...]}').get("message_ids")
        if message_ids is not None and (
            not isinstance(message_ids, list) or not all(isinstance(i, str) and i for i in message_ids)
        ):
            raise _invalid("message_ids must be a list of message ids (non-empty strings)")
        remaining = None if message_ids is None else list(dict.fromkeys(message_ids))
        redriven: list[str] = []
        not_redrivable: list[str] = []
        for queue in self.dead_letters:
            if remaining == []:
                break
            done = queue.redrive(remaining)
            redriven += done["redriven"]
            not_redrivable += done["not_redrivable"]
            if remaining is not None:
                handled: set[str] = set(done["redriven"]) | set(done["not_redrivable"])
                remaining = [i for i in remaining if i not in handled]
        return {"redriven": redriven, "not_found": remaining or [], "not_redrivable": not_redrivable}

    # -- uploads -------------------------------------------------------------------------------

    def create_upload(self, body: bytes | str | None) -> dict[str, Any]:
        """POST /v1/uploads: a short-lived URL that takes exactly the declared type and size."""
        request = _object(
            _json_body(body),
            {"key", "content_type", "size"},
            '{"key": ..., "content_type": "image/jpeg", "size": bytes}',
        )
        key = check_key(request.get("key"))
        content_type = request.get("content_type")
        if not isinstance(content_type, str):
            raise _invalid(f"content_type must be one of {', '.join(UPLOAD_MEDIA_TYPES)}")
        if content_type not in UPLOAD_MEDIA_TYPES:
            raise ApiError(
                415,
                "unsupported_media_type",
                f"content_type {content_type!r} is not accepted: send one of {', '.join(UPLOAD_MEDIA_TYPES)}",
            )
        size = request.get("size")
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise _invalid("size must be the image's length in bytes, a positive integer")
        if size > MAX_UPLOAD_BYTES:
            raise ApiError(413, "too_large", f"size is {size} bytes; uploads are limited to {MAX_UPLOAD_BYTES} bytes")
        return self.urls.upload(key, content_type, size, UPLOAD_URL_TTL_S)
