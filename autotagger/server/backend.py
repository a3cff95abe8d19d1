"""What the HTTP API needs from the pipeline behind it.

The routes talk to this protocol, not to `autotagger.local.runtime.Pipeline` directly, so they
can be exercised in-process against in-memory stand-ins and the runtime can change its
composition without touching HTTP code.
"""

from __future__ import annotations

from typing import Any, Protocol

from autotagger.ports import ImageIndex, StoredObject


class PipelineBackend(Protocol):
    bucket_name: str
    index: ImageIndex

    def upload(self, key: str, data: bytes, content_type: str) -> StoredObject:
        """Stores the object; returns once the object and its pending execution are durable."""
        ...

    def delete(self, key: str) -> StoredObject | None:
        """Deletes the object (None if absent); the delete then flows through the workflow."""
        ...

    def read_object(self, key: str) -> tuple[bytes, str] | None:
        """(bytes, content type) of a stored object, or None."""
        ...

    def list_executions(self, status: str | None = None, limit: int = 50) -> list[dict[str, Any]]: ...

    def get_execution(self, execution_id: str) -> dict[str, Any] | None:
        """By execution name or ARN; includes the event history."""
        ...

    def dead_letters(self, limit: int = 100) -> dict[str, list[dict[str, Any]]]:
        """{"workflow": [...], "indexer": [...]}, each message with its parsed reason."""
        ...

    def redrive(self, message_ids: list[str] | None = None) -> dict[str, list[str]]:
        """{"redriven": [...], "not_found": [...]}; all messages of both queues when None."""
        ...

    def summary(self) -> dict[str, Any]: ...

    def upload_outcome(self, bucket: str, key: str, sequencer: str | None = None) -> dict[str, Any] | None:
        """What became of the key's latest upload (or its version `sequencer`); None if there is none.
        See `autotagger.local.stores.LocalStores.upload_outcome`."""
        ...
