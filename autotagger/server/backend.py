"""What the HTTP API needs from the pipeline behind it.

The routes talk to this protocol, not to `autotagger.local.runtime.Pipeline` directly, so they
can be exercised in-process against in-memory stand-ins and the runtime can change its
composition without touching HTTP code.
"""

from __future__ import annotations

from typing import Any, Protocol

from autotagger.api.service import ReadApi
from autotagger.ports import StoredObject


class SignedUrls(Protocol):
    """The signer behind the read API's `ImageUrls` (`autotagger.local.read_adapters.LocalImageUrls`)."""

    def verify(self, method: str, bucket: str, key: str, query: dict[str, str]) -> tuple[str, int | None]:
        """(content type, size) the URL was signed for; raises `UrlRefused` otherwise."""
        ...


class PipelineBackend(Protocol):
    bucket_name: str
    read_api: ReadApi  # the `/v1` read routes, over the pipeline's ports
    image_urls: SignedUrls

    def upload(self, key: str, data: bytes, content_type: str) -> StoredObject:
        """Stores the object; returns once the object and its pending execution are durable."""
        ...

    def delete(self, key: str) -> StoredObject | None:
        """Deletes the object (None if absent); the delete then flows through the workflow."""
        ...

    def read_object(self, key: str) -> tuple[bytes, str] | None:
        """(bytes, content type) of a stored object, or None."""
        ...

    def summary(self) -> dict[str, Any]: ...

    def upload_outcome(self, bucket: str, key: str, sequencer: str | None = None) -> dict[str, Any] | None:
        """What became of the key's latest upload (or its version `sequencer`); None if there is none.
        See `autotagger.local.stores.LocalStores.upload_outcome`."""
        ...
