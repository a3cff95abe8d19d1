"""Retriers and Catchers: validated at load, matched and timed as the specification says.

The first Retrier whose ErrorEquals matches is the one that applies; once its MaxAttempts are
used up the state fails to its Catchers (a later Retrier is not tried). Each Retrier counts its
own attempts. Delay = IntervalSeconds × BackoffRate^n, capped by MaxDelaySeconds, then with
JitterStrategy FULL drawn uniformly from [0, delay].
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from random import Random
from typing import Any, TypeVar

from .failures import ALL, KNOWN_STATES_ERRORS, DefinitionError, error_matches
from .intrinsics import json_text
from .paths import ReferencePath, compile_reference_path

_RETRIER_FIELDS = {
    "ErrorEquals",
    "IntervalSeconds",
    "MaxAttempts",
    "BackoffRate",
    "MaxDelaySeconds",
    "JitterStrategy",
    "Comment",
}
_CATCHER_FIELDS = {"ErrorEquals", "Next", "ResultPath", "Comment"}


@dataclass(frozen=True)
class Retrier:
    errors: frozenset[str]
    interval: float = 1
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay: float | None = None
    full_jitter: bool = False

    def matches(self, error: str) -> bool:
        return error_matches(self.errors, error)

    def delay(self, retries_done: int, rng: Random) -> float:
        delay = self.interval * self.backoff_rate**retries_done
        if self.max_delay is not None:
            delay = min(delay, self.max_delay)
        return rng.uniform(0, delay) if self.full_jitter else delay


@dataclass(frozen=True)
class Catcher:
    errors: frozenset[str]
    next: str
    result_path: ReferencePath | None  # None: ResultPath null, the error is discarded

    def matches(self, error: str) -> bool:
        return error_matches(self.errors, error)


def _error_equals(value: Any, where: str, is_last: bool) -> frozenset[str]:
    if not isinstance(value, list) or not value or not all(isinstance(e, str) and e for e in value):
        raise DefinitionError(f"{where}.ErrorEquals: must be a non-empty array of error names")
    for name in value:
        if name.startswith("States.") and name not in KNOWN_STATES_ERRORS:
            raise DefinitionError(
                f"{where}.ErrorEquals: unknown error name {name!r} (names starting with 'States.' are reserved)"
            )
    if ALL in value and (len(value) != 1 or not is_last):
        raise DefinitionError(f"{where}.ErrorEquals: States.ALL must appear alone, in the last element of the array")
    return frozenset(value)


_Default = TypeVar("_Default", int, None)


def _positive_int(rule: dict[str, Any], key: str, where: str, default: _Default, minimum: int = 1) -> int | _Default:
    if key not in rule:
        return default
    value = rule[key]
    if type(value) is not int or value < minimum:
        raise DefinitionError(f"{where}.{key}: must be an integer >= {minimum}, got {json_text(value)}")
    return value


def _rules(
    value: Any, where: str, field: str, allowed: set[str]
) -> Iterator[tuple[str, dict[str, Any], frozenset[str]]]:
    """The checks Retry and Catch share: an array of objects with known fields and a valid ErrorEquals.
    Yields each rule with its location (for error messages) and its error names."""
    if not isinstance(value, list):
        raise DefinitionError(f"{where}.{field}: must be an array")
    for i, rule in enumerate(value):
        at = f"{where}.{field}[{i}]"
        if not isinstance(rule, dict):
            raise DefinitionError(f"{at}: must be an object")
        unknown = set(rule) - allowed
        if unknown:
            raise DefinitionError(f"{at}: unknown field(s) {sorted(unknown)}")
        yield at, rule, _error_equals(rule.get("ErrorEquals"), at, i == len(value) - 1)


def compile_retry(value: Any, where: str) -> tuple[Retrier, ...]:
    retriers = []
    for at, rule, errors in _rules(value, where, "Retry", _RETRIER_FIELDS):
        backoff = rule.get("BackoffRate", 2.0)
        if isinstance(backoff, bool) or not isinstance(backoff, (int, float)) or backoff < 1.0:
            raise DefinitionError(f"{at}.BackoffRate: must be a number >= 1.0, got {json_text(backoff)}")
        jitter = rule.get("JitterStrategy", "NONE")
        if jitter not in ("FULL", "NONE"):
            raise DefinitionError(f"{at}.JitterStrategy: must be FULL or NONE, got {json_text(jitter)}")
        retriers.append(
            Retrier(
                errors=errors,
                interval=_positive_int(rule, "IntervalSeconds", at, 1),
                max_attempts=_positive_int(rule, "MaxAttempts", at, 3, minimum=0),
                backoff_rate=float(backoff),
                max_delay=_positive_int(rule, "MaxDelaySeconds", at, None),
                full_jitter=jitter == "FULL",
            )
        )
    return tuple(retriers)


def compile_catch(value: Any, where: str, state_names: set[str]) -> tuple[Catcher, ...]:
    catchers = []
    for at, rule, errors in _rules(value, where, "Catch", _CATCHER_FIELDS):
        target = rule.get("Next")
        if target not in state_names:
            raise DefinitionError(f"{at}.Next: {json_text(target)} is not a state of this state machine")
        result_path = rule.get("ResultPath", "$")
        try:
            path = None if result_path is None else compile_reference_path(result_path)
        except DefinitionError as exc:
            raise DefinitionError(f"{at}.ResultPath: {exc}") from None
        catchers.append(Catcher(errors=errors, next=target, result_path=path))
    return tuple(catchers)
