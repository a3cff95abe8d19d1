"""Helpers for the engine's unit tests: build machines from dicts, record sleeps, script tasks."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from autotagger.workflow import StateMachine, TaskRegistry

ECHO = "arn:aws:states:::test:echo"
WORK = "arn:aws:states:::test:work"


class Sleeps(list):
    """An injectable sleeper that records the requested delays and never sleeps."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class Script:
    """A task adapter that answers from a script: each item is a result or an exception to raise."""

    def __init__(self, *outcomes: Any):
        self.outcomes = list(outcomes)
        self.calls: list[dict] = []

    def __call__(self, parameters: dict) -> Any:
        self.calls.append(parameters)
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


class FixedClock:
    def __init__(self, start: datetime = datetime(2026, 11, 25, 12, 0, 0, 123000, tzinfo=UTC)):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def machine(states: dict, start: str | None = None, **options: Any) -> StateMachine:
    definition = {"StartAt": start or next(iter(states)), "States": states}
    options.setdefault("sleeper", Sleeps())
    options.setdefault("random", random.Random(7))
    return StateMachine(definition, name="test-machine", **options)


def registry(**adapters: Callable[[dict], Any]) -> TaskRegistry:
    reg = TaskRegistry()
    reg.register(ECHO, adapters.pop("echo", lambda parameters: parameters))
    for name, fn in adapters.items():
        reg.register(f"arn:aws:states:::test:{name}", fn)
    return reg


def events(execution: Any, kind: str | None = None) -> list[dict]:
    return [e for e in execution.history if kind is None or e["type"] == kind]


def types(execution: Any) -> list[str]:
    return [e["type"] for e in execution.history]

