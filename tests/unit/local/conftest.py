"""Shared by the local stand-in tests."""

from __future__ import annotations

import pytest


class FakeClock:
    """A `clock=` for the stream and the dead-letter queue: epoch seconds, moved by hand (`now += ...`)."""

    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return FakeClock()
