"""Shared by the local stand-in tests."""

from __future__ import annotations

import pytest

from autotagger.local.dlq import LocalDeadLetterQueue
from autotagger.local.stream import LocalStream


class FakeClock:
    """A `clock=` for the stream and the dead-letter queue: epoch seconds, moved by hand (`now += ...`)."""

    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def stream(tmp_path):
    s = LocalStream(tmp_path / "stream.sqlite3", shard_count=4)
    yield s
    s.close()


@pytest.fixture
def dlq(tmp_path):
    """The on-failure destination of a stream consumer."""
    q = LocalDeadLetterQueue(tmp_path / "dlq.sqlite3", "indexer-dlq")
    yield q
    q.close()
