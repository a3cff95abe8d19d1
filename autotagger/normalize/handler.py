"""The Normalize function: one original object -> its JPEG derivative, as a Lambda handler.

`make_handler(store_for)` binds the logic to where objects live: `functions/normalize/handler.py`
to S3 (`S3Objects`), the local runtime to its bucket on disk, behind the same
`arn:aws:states:::lambda:invoke` task. The event is the task's `Payload`; the answer is what the
workflow reads as `$.Payload` (https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from autotagger.contracts import DERIVATIVES_PREFIX

from .errors import SourceObjectMissing
from .images import normalize

logger = logging.getLogger(__name__)



class Objects(Protocol):
    """What the function does with a bucket (`autotagger.ports.ObjectStore` has both)."""

    def get(self, key: str) -> bytes: ...  # raises KeyError when absent

    def put(self, key: str, data: bytes, content_type: str) -> Any: ...


Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def _field(event: dict[str, Any], name: str) -> str:
    value = event.get(name) if isinstance(event, dict) else None
    if not isinstance(value, str) or not value:
        raise ValueError(f"the event needs a non-empty string {name!r}")
    return value


def make_handler(store_for: Callable[[str], Objects]) -> Handler:
    """A handler for events `{"bucket", "key", "derivative_key"}` (the workflow's Normalize payload)."""

    def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        bucket, key, derivative_key = _field(event, "bucket"), _field(event, "key"), _field(event, "derivative_key")
        if not derivative_key.startswith(DERIVATIVES_PREFIX) or key.startswith(DERIVATIVES_PREFIX):
            raise ValueError(f"derivatives are written under {DERIVATIVES_PREFIX!r} only, from originals outside it")
        store = store_for(bucket)
        try:
            data = store.get(key)
        except KeyError:
            raise SourceObjectMissing(f"Object {key!r} is no longer in bucket {bucket!r}.") from None
        result = normalize(data)
        store.put(derivative_key, result.jpeg, "image/jpeg")
        logger.info("normalised %s (%s, %d frame(s), orientation %d) to %s, %dx%d", key, result.source_format,
                    result.frames, result.orientation, derivative_key, result.width, result.height)
        return {
            "bucket": bucket, "key": derivative_key, "source_key": key, "source_format": result.source_format,
            "frames": result.frames, "orientation": result.orientation, "width": result.width,
            "height": result.height, "source_width": result.source_width, "source_height": result.source_height,
            "bytes": len(result.jpeg), "analyzed_frame": 0,  # animated originals: the first frame only
        }

    return handler
