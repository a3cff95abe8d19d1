"""Task adapters keyed by resource ARN: the same definition runs against local or AWS adapters."""

from __future__ import annotations

from typing import Any, Callable, Iterable

from .failures import UnknownResourceError

TaskAdapter = Callable[[dict], Any]  # parameters -> result (JSON-able); raises ServiceError on failure


class TaskRegistry:
    """Maps `Resource` ARNs to callables `fn(parameters: dict) -> dict`."""

    def __init__(self, adapters: dict[str, TaskAdapter] | None = None):
        self._adapters: dict[str, TaskAdapter] = {}
        for resource, fn in (adapters or {}).items():
            self.register(resource, fn)

    def register(self, resource: str, fn: TaskAdapter) -> "TaskRegistry":
        if not isinstance(resource, str) or not resource.startswith("arn:"):
            raise ValueError(f"a task resource must be an ARN, got {resource!r}")
        if not callable(fn):
            raise TypeError(f"the adapter for {resource} must be callable")
        self._adapters[resource] = fn
        return self

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
