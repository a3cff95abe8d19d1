"""`ports.DeadLetters` in memory: a queue you can list, look up by object and redrive."""

from __future__ import annotations

import itertools
import json

from autotagger.local.dlq import objects_of
from autotagger.ports import DeadLetter


class FakeDeadLetters:
    """Messages oldest first, ids m1, m2, ...; `about` reads bodies as the local queue does."""

    def __init__(self, name: str = "dead-letters"):
        self.name = name
        self.letters: dict[str, DeadLetter] = {}
        self._ids = itertools.count(1)
        self.closed = False

    def send(self, body: str, attributes: dict[str, str] | None = None) -> str:
        if not isinstance(body, str):
            raise TypeError(f"message body must be str (JSON text), not {type(body).__name__}")
        message_id = f"m{next(self._ids)}"
        self.letters[message_id] = DeadLetter(message_id, body, "2026-11-25T00:00:00.000Z", self.name,
                                              dict(attributes or {}))
        return message_id

    def list(self, limit: int = 100) -> list[DeadLetter]:
        return list(self.letters.values())[:limit]

    def count(self) -> int:
        return len(self.letters)

    def about(self, bucket: str, key: str, sequencer: str | None = None) -> list[DeadLetter]:
        return [letter for letter in reversed(self.letters.values())
                if any(o[:2] == (bucket, key) and sequencer in (None, o[2]) for o in objects_of(letter.body))]

    def remove(self, message_id: str) -> bool:
        return self.letters.pop(message_id, None) is not None

    def close(self) -> None:
        self.closed = True

    def bodies(self) -> list[dict]:
        """The bodies, parsed (what tests usually look at)."""
        return [json.loads(letter.body) for letter in self.letters.values()]
