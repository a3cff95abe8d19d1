"""The read API's ports on the local runtime: executions from the execution store, dead letters
from the SQLite queues, image URLs signed with a secret of the data directory.

They answer in the shapes the AWS adapters (`autotagger.api.aws`) give, so `ReadApi` serves the
same documents on both runtimes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from autotagger.errors import InvalidCursor
from autotagger.local.dlq import LocalDeadLetterQueue, QueuedDeadLetter
from autotagger.local.stores import execution_summary, execution_view
from autotagger.ports import DeadLetter

# -- executions ------------------------------------------------------------------------------------

_MAX_CURSOR_CHARS = 2048
# Step Functions' rule for execution names (StartExecution `name`): describe answers for names
# only, as on AWS, so an ARN or a path-like value finds nothing on both runtimes.
_BAD_NAME_CHARS = set(" \t\n\r<>{}[]?*\"#%\\^|~`$&,;:/")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LocalExecutionLookup:
    """`ports.ExecutionLookup` over the execution store (`autotagger.workflow.store`).

    The cursor is the last answered execution's place in the order (start date, row) and the
    filters it was issued for: a keyset query, so a page costs the same at any depth; a cursor used
    with other filters is refused rather than silently walking another list (as on AWS)."""

    def __init__(self, store: Any, execution_arn: Callable[[str], str]):
        self.store = store
        self._execution_arn = execution_arn

    @staticmethod
    def _cursor(position: tuple[str, int], filters: list[str | None]) -> str:
        return _b64(json.dumps({"p": list(position), "f": filters}, separators=(",", ":")).encode())

    @staticmethod
    def _position(cursor: str, filters: list[str | None]) -> tuple[str, int]:
        try:
            if len(cursor) > _MAX_CURSOR_CHARS:
                raise ValueError("too long")
            data = json.loads(_unb64(cursor))
            start, row = data["p"]
            valid = data["f"] == filters and isinstance(start, str) and type(row) is int
        except (ValueError, TypeError, KeyError, binascii.Error):
            valid = False
        if not valid:
            raise InvalidCursor("the cursor is not one this API issued for these filters")
        return start, row

    def list(self, status: str | None = None, key: str | None = None, limit: int = 50,
             cursor: str | None = None) -> dict[str, Any]:
        filters = [status, key]
        after = self._position(cursor, filters) if cursor else None
        rows = self.store.page(status=status, key=key, limit=limit + 1, after=after)
        page = rows[:limit]
        more = len(rows) > limit and bool(page)
        return {"executions": [execution_summary(execution) for _, execution in page],
                "next_cursor": self._cursor(page[-1][0], filters) if more else None}

    def describe(self, name: str) -> dict[str, Any] | None:
        if not 1 <= len(name) <= 80 or any(ch in _BAD_NAME_CHARS or ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F
                                           for ch in name):
            return None
        # The tagging workflow's execution of that name; else a backfill's or one of its Map Run's
        # children (named alike: the dashboard links a Map Run's failed items by name).
        arn: str | None = self._execution_arn(name)
        execution = self.store.get(arn)
        if execution is None and (arn := self.store.arn_named(name)) is not None:
            execution = self.store.get(arn)
        return None if execution is None or arn is None else execution_view(self.store, arn, execution)


# -- dead letters ----------------------------------------------------------------------------------

class LocalDeadLetterQueueView:
    """`ports.DeadLetterQueue` over one SQLite queue, under the name the API lists it by.

    `resubmit(letter)` re-submits a letter (the workflow queue re-runs its event as execution
    `redrive-<message id>`, the indexer queue puts its records back on the stream: see
    `autotagger.local.redrive`); `redrivable(letter)` says whether it carries anything to re-submit.
    A redrive claims the message, re-submits, and only then removes it (`LocalDeadLetterQueue.redrive`)."""

    def __init__(self, name: str, queue: LocalDeadLetterQueue, resubmit: Callable[[QueuedDeadLetter], Any],
                 redrivable: Callable[[QueuedDeadLetter], bool]):
        self.name = name
        self.queue = queue
        self._resubmit = resubmit
        self._redrivable = redrivable

    def redrive(self, message_ids: list[str] | None = None) -> dict[str, list[str]]:
        if message_ids is None:  # what the queue held as the redrive began
            message_ids = [letter.message_id for letter in self.queue.list(limit=self.queue.count())]
        redriven: list[str] = []
        kept: list[str] = []
        for message_id in dict.fromkeys(message_ids):
            letter = self.queue.get(message_id)
            if letter is None:
                continue
            if not self._redrivable(letter):
                kept.append(message_id)
            elif self.queue.redrive(message_id, self._resubmit):
                redriven.append(message_id)
            # else a concurrent redrive holds it: that one re-submits it
        return {"redriven": redriven, "not_redrivable": kept}

    # After every annotation naming the builtin `list`: past this def the class body's `list` is the method.
    def list(self, limit: int = 100, visibility_timeout_s: int = 30) -> list[DeadLetter]:
        # A SQLite queue reads without receiving: nothing is hidden from anyone.
        return [DeadLetter(message_id=letter.message_id, body=letter.body, sent_at=letter.sent_at, queue=self.name,
                           attributes={**letter.attributes, "ApproximateReceiveCount": str(letter.receive_count)})
                for letter in self.queue.list(limit=limit)]


def _body(letter: QueuedDeadLetter) -> Any:
    try:
        return json.loads(letter.body)
    except ValueError:
        return None


def carries_event(letter: QueuedDeadLetter) -> bool:
    """A workflow dead letter with the original event to run again."""
    body = _body(letter)
    return isinstance(body, dict) and isinstance(body.get("event"), dict)


def carries_records(letter: QueuedDeadLetter) -> bool:
    """An indexer dead letter with stream records to put back."""
    body = _body(letter)
    records = body.get("records") if isinstance(body, dict) else None
    return isinstance(records, list) and bool(records)


# -- image URLs ------------------------------------------------------------------------------------

SIGNING_KEY_FILE = "url-signing.key"
SIGNED_PREFIX = "/v1/_local/"  # `_` is never in an S3 bucket name: no clash with /v1/{bucket}/{object}


def signing_secret(data_dir: str | os.PathLike[str]) -> bytes:
    """The data directory's URL-signing secret (32 random bytes, made on first use, owner-only):
    URLs stay valid across restarts of the same data directory and nowhere else."""
    path = Path(data_dir) / SIGNING_KEY_FILE
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_bytes()
        if len(secret) < 32:
            raise RuntimeError(f"{path} is damaged (under 32 bytes): delete it to sign with a new secret") from None
        return secret
    secret = os.urandom(32)
    try:
        os.write(descriptor, secret)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return secret


class UrlRefused(Exception):
    """A signed URL that does not allow the request; `reason` says what to do."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _iso(epoch_s: int) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class LocalImageUrls:
    """`ports.ImageUrls` locally: URLs under `/v1/_local/{bucket}/{object}` (relative; the server
    answering the API request makes them absolute) carrying an expiry and an HMAC-SHA256 over
    method, bucket, key, expiry, content type and size. The server's byte routes `verify` them: a
    GET reads the image, a PUT stores a body of exactly the signed type and size."""

    def __init__(self, secret: bytes, bucket: str, *, clock: Callable[[], float] = time.time):
        self._secret = secret
        self.bucket = bucket
        self._clock = clock

    def _signature(self, method: str, bucket: str, key: str, expires: int, content_type: str, size: int | None) -> str:
        message = json.dumps([method, bucket, key, expires, content_type, size], separators=(",", ":"))
        return _b64(hmac.new(self._secret, message.encode("utf-8"), hashlib.sha256).digest())

    def _url(self, bucket: str, key: str, query: dict[str, Any]) -> str:
        return f"{SIGNED_PREFIX}{quote(bucket, safe='')}/{quote(key, safe='')}?{urlencode(query)}"

    def download_url(self, bucket: str, key: str, expires_in_s: int) -> str:
        expires = int(self._clock()) + expires_in_s
        return self._url(bucket, key, {"expires": expires,
                                       "signature": self._signature("GET", bucket, key, expires, "", None)})

    def upload(self, key: str, content_type: str, size: int, expires_in_s: int) -> dict[str, Any]:
        expires = int(self._clock()) + expires_in_s
        signature = self._signature("PUT", self.bucket, key, expires, content_type, size)
        url = self._url(self.bucket, key, {"expires": expires, "content_type": content_type, "size": size,
                                           "signature": signature})
        return {"url": url, "method": "PUT", "headers": {"Content-Type": content_type, "Content-Length": str(size)},
                "expires_at": _iso(expires), "key": key}

    def verify(self, method: str, bucket: str, key: str, query: dict[str, str]) -> tuple[str, int | None]:
        """(content type, size) the URL was signed for ("" and None for a GET); UrlRefused when the
        signature is not ours for exactly this request, or the URL has expired."""
        try:
            expires = int(query["expires"])
            signature = query["signature"]
            content_type = query.get("content_type", "") if method == "PUT" else ""
            size = int(query["size"]) if method == "PUT" else None
        except (KeyError, ValueError):
            raise UrlRefused("not a signed URL: ask the API for one (GET /v1/images/{id}, POST /v1/uploads)") from None
        expected = self._signature(method, bucket, key, expires, content_type, size)
        if not hmac.compare_digest(expected, signature):
            raise UrlRefused("the signature does not match this request: use the URL exactly as the API gave it")
        if self._clock() >= expires:
            raise UrlRefused(f"the URL expired at {_iso(expires)}: ask the API for a new one")
        return content_type, size
