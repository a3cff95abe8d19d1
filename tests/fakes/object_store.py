"""`ports.ObjectStore` in memory: a bucket that reports what S3 reports (ETag, sequencer)."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable
from datetime import UTC, datetime

from autotagger.ports import StoredObject


class FakeObjectStore:
    """Every put or delete gets the next sequencer (hex, increasing, as S3's are per key)."""

    def __init__(self, name: str = "image-vaults"):
        self.name = name
        self.objects: dict[str, tuple[bytes, StoredObject]] = {}
        self._sequencers = itertools.count(1)
        self.closed = False

    @classmethod
    def holding(cls, objects: dict[str, bytes], name: str = "image-vaults") -> FakeObjectStore:
        """A store with `objects` (key -> bytes) already put, in that order."""
        store = cls(name)
        for key, data in objects.items():
            store.put(key, data)
        return store

    def _stored(self, key: str, size: int, etag: str, content_type: str) -> StoredObject:
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return StoredObject(self.name, key, size, etag, f"{next(self._sequencers):016X}", now, content_type)

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> StoredObject:
        stored = self._stored(key, len(data), hashlib.md5(data).hexdigest(), content_type)
        self.objects[key] = (bytes(data), stored)
        return stored

    def get(self, key: str) -> bytes:
        return self.objects[key][0]

    def head(self, key: str) -> StoredObject | None:
        found = self.objects.get(key)
        return None if found is None else found[1]

    def delete(self, key: str) -> StoredObject | None:
        found = self.objects.pop(key, None)
        return None if found is None else self._stored(key, 0, "", found[1].content_type)

    def list(self, prefix: str = "") -> Iterable[StoredObject]:
        return [stored for key, (_, stored) in sorted(self.objects.items()) if key.startswith(prefix)]

    def close(self) -> None:
        self.closed = True
