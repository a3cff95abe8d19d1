"""Task adapters keyed by resource ARN: the same definition runs against local or AWS adapters."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .failures import UnknownResourceError

TaskAdapter = Callable[[dict[str, Any]], Any]  # parameters -> result (JSON-able); raises ServiceError on failure


class TaskRegistry:
    """Maps `Resource` ARNs to callables `fn(parameters: dict) -> dict`."""

    def __init__(self, adapters: dict[str, TaskAdapter] | None = None):
        self._adapters: dict[str, TaskAdapter] = {}
        self._inline: set[str] = set()
        for resource, fn in (adapters or {}).items():
            self.register(resource, fn)

    def register(self, resource: str, fn: TaskAdapter, *, inline: bool = False) -> TaskRegistry:
        """Adds an adapter. `inline=True` is for adapters that cannot block (in-memory, short CPU work).

        A task with TimeoutSeconds/HeartbeatSeconds normally runs on a worker thread so a hung call
        can be abandoned at its deadline; an inline adapter runs in the execution's own thread
        instead (no thread hand-off, which costs ~50 µs idle and milliseconds on a loaded machine)
        and its deadline is checked when it returns: a late answer is discarded as States.Timeout,
        exactly what an abandoned call's answer becomes.
        """
        if not isinstance(resource, str) or not resource.startswith("arn:"):
            raise ValueError(f"a task resource must be an ARN, got {resource!r}")
        if not callable(fn):
            raise TypeError(f"the adapter for {resource} must be callable")
        self._adapters[resource] = fn
        if inline:
            self._inline.add(resource)
        else:
            self._inline.discard(resource)
        return self

    def is_inline(self, resource: str) -> bool:
        return resource in self._inline

    def get(self, resource: str) -> TaskAdapter:
        try:
            return self._adapters[resource]
        except KeyError:
            raise UnknownResourceError(f"no task adapter is registered for {resource}") from None

    def __contains__(self, resource: object) -> bool:
        return resource in self._adapters

    def resources(self) -> list[str]:
        return sorted(self._adapters)

    def check(self, resources: Iterable[str]) -> None:
        """Raises UnknownResourceError listing every resource that has no adapter."""
        missing = sorted(set(resources) - set(self._adapters))
        if missing:
            known = ", ".join(self.resources()) or "none"
            raise UnknownResourceError(f"no task adapter is registered for {', '.join(missing)} (registered: {known})")
