"""The local event bus: named rules with EventBridge patterns, each delivering to one target."""

from __future__ import annotations

import copy
import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from autotagger.local.event_pattern import CompiledPattern, compile_pattern, matches

log = logging.getLogger(__name__)


class TargetDeliveryError(Exception):
    """One or more matched targets raised; the others were delivered. Carries which is which so the
    caller can retry only the failed rules (`EventRouter.deliver(event, rule_names)`)."""

    def __init__(self, failures: dict[str, BaseException], delivered: list[str]):
        names = ", ".join(f"{name}: {type(exc).__name__}: {exc}" for name, exc in failures.items())
        super().__init__(f"event not delivered to {names}")
        self.failures = failures
        self.delivered = delivered


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: dict[str, Any]
    target: Callable[[dict[str, Any]], Any]
    compiled: CompiledPattern


class EventRouter:
    """A local event bus: rules with EventBridge patterns, each with one target callable."""

    def __init__(self) -> None:
        self._rules: dict[str, Rule] = {}
        self._lock = threading.Lock()

    def add_rule(self, name: str, pattern: Mapping[str, Any] | str, target: Callable[[dict[str, Any]], Any]) -> None:
        """Adds or replaces a rule; an invalid or unsupported pattern is refused here."""
        if not name:
            raise ValueError("rule name must not be empty")
        if not callable(target):
            raise TypeError("rule target must be callable")
        compiled = compile_pattern(pattern)
        as_dict = json.loads(pattern) if isinstance(pattern, str) else dict(pattern)
        with self._lock:
            self._rules[name] = Rule(name, as_dict, target, compiled)

    def remove_rule(self, name: str) -> bool:
        with self._lock:
            return self._rules.pop(name, None) is not None

    def rules(self) -> list[Rule]:
        with self._lock:
            return list(self._rules.values())

    def matching_rules(self, event: Mapping[str, Any]) -> list[str]:
        return [rule.name for rule in self.rules() if matches(rule.compiled, event)]

    def publish(self, event: Mapping[str, Any]) -> list[str]:
        """Delivers `event` to the target of every matching rule; returns the matched rule names.

        Every matched target is tried; if any raised, TargetDeliveryError says which, after the
        rest were delivered - the event is never dropped silently.
        """
        return self.deliver(event, self.matching_rules(event))

    def deliver(self, event: Mapping[str, Any], rule_names: list[str]) -> list[str]:
        """Calls the targets of the named rules with `event` (no matching); used for retries."""
        with self._lock:
            rules = [self._rules[n] for n in rule_names if n in self._rules]
        failures: dict[str, BaseException] = {}
        delivered: list[str] = []
        for rule in rules:
            try:
                rule.target(copy.deepcopy(dict(event)))  # a target may mutate its input
                delivered.append(rule.name)
            except Exception as exc:  # noqa: BLE001 - reported to the caller below
                log.warning("rule %s: target failed for event %s: %s", rule.name, event.get("id"), exc)
                failures[rule.name] = exc
        if failures:
            raise TargetDeliveryError(failures, delivered)
        return [rule.name for rule in rules]
