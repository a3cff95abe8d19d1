"""`ports.DeadLetterQueue` in memory: a redrive re-submits through `resubmit` (None: nothing is
redrivable) and removes the message, so redriving it again finds nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autotagger.ports import DeadLetter


class FakeDeadLetterQueue:
    def __init__(self, name: str = "workflow", letters: list[DeadLetter] | None = None,
                 resubmit: Callable[[DeadLetter], Any] | None = None):
        self.name = name
        self.letters = {letter.message_id: letter for letter in letters or []}
        self.resubmit = resubmit
        self.list_calls: list[tuple[int, int]] = []

    def list(self, limit: int = 100, visibility_timeout_s: int = 30) -> list[DeadLetter]:
        self.list_calls.append((limit, visibility_timeout_s))
        return list(self.letters.values())[:limit]

    def redrive(self, message_ids: list[str] | None = None) -> dict[str, list[str]]:
        ids = list(self.letters) if message_ids is None else [i for i in message_ids if i in self.letters]
        redriven, kept = [], []
        for message_id in ids:
            if self.resubmit is None:
                kept.append(message_id)
                continue
            self.resubmit(self.letters.pop(message_id))
            redriven.append(message_id)
        return {"redriven": redriven, "not_redrivable": kept}
