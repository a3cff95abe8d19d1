"""S3 object events in the exact shape S3 sends them to EventBridge (samples: `tests/events/`)."""

from __future__ import annotations

import secrets
import string
import uuid
from datetime import UTC, datetime
from typing import Any

from autotagger.contracts import OBJECT_CREATED, OBJECT_DELETED, S3_EVENT_SOURCE
from autotagger.ports import StoredObject


def _request_id() -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(16))


def _event_time(iso: str) -> str:
    """EventBridge `time` is whole seconds, `YYYY-MM-DDThh:mm:ssZ`."""
    parsed = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _envelope(detail_type: str, obj: StoredObject, region: str, account: str, detail: dict[str, Any],
              event_id: str | None) -> dict[str, Any]:
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": S3_EVENT_SOURCE,
        "account": account,
        "time": _event_time(obj.last_modified),
        "region": region,
        "resources": [f"arn:aws:s3:::{obj.bucket}"],
        "detail": detail,
    }


def object_created_event(obj: StoredObject, *, region: str, account: str, request_id: str | None = None,
                         source_ip: str = "127.0.0.1", requester: str | None = None, reason: str = "PutObject",
                         event_id: str | None = None) -> dict[str, Any]:
    """The event S3 sends to EventBridge for a PutObject."""
    detail = {
        "version": "0",
        "bucket": {"name": obj.bucket},
        "object": {"key": obj.key, "size": obj.size, "etag": obj.etag, "sequencer": obj.sequencer},
        "request-id": request_id or _request_id(),
        "requester": requester or account,
        "source-ip-address": source_ip,
        "reason": reason,
    }
    return _envelope(OBJECT_CREATED, obj, region, account, detail, event_id)


def object_deleted_event(obj: StoredObject, *, region: str, account: str, request_id: str | None = None,
                         source_ip: str = "127.0.0.1", requester: str | None = None,
                         event_id: str | None = None) -> dict[str, Any]:
    """The event S3 sends for a DeleteObject on an unversioned bucket.

    Like S3's, the object carries only key and sequencer (no size or etag), and the deletion
    type of an unversioned delete is "Permanently Deleted".
    """
    detail = {
        "version": "0",
        "bucket": {"name": obj.bucket},
        "object": {"key": obj.key, "sequencer": obj.sequencer},
        "request-id": request_id or _request_id(),
        "requester": requester or account,
        "source-ip-address": source_ip,
        "reason": "DeleteObject",
        "deletion-type": "Permanently Deleted",
    }
    return _envelope(OBJECT_DELETED, obj, region, account, detail, event_id)


