"""EventBridge event patterns: validated and compiled once, then matched against events.

Why the matcher is written here: the maintained implementation is AWS's Java `event-ruler`; its
Python port on PyPI (`event-ruler`, a gopy build of a Go matcher) ships wheels for CPython 3.11 on
x86-64 only, was last released in 2023 and changes the working directory on import, which is not
safe in a threaded server. moto's matcher is test-only code. The subset below covers every
operator an S3 rule needs, follows the semantics documented for EventBridge (values are matched
at leaves; arrays in the event match if any element matches; `anything-but` and the string
operators need the field to be present; numbers match `numeric` only when they are JSON numbers),
and refuses anything else when the rule is added, never at match time.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


class InvalidEventPattern(ValueError):
    """The pattern is not valid EventBridge syntax, or uses an operator this stand-in lacks."""


_MISSING = object()
_NUMERIC_OPS = {"=", "<", "<=", ">", ">="}
_SUPPORTED = ("prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but", "exists", "numeric", "cidr")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, bool, int, float))


def _literal_equal(pattern_value: Any, value: Any) -> bool:
    if pattern_value is None or value is None:
        return pattern_value is None and value is None
    if isinstance(pattern_value, bool) or isinstance(value, bool):
        return isinstance(pattern_value, bool) and isinstance(value, bool) and pattern_value == value
    if _is_number(pattern_value) and _is_number(value):
        return float(pattern_value) == float(value)
    return type(pattern_value) is type(value) and pattern_value == value


def _wildcard_regex(pattern: str) -> re.Pattern[str]:
    """`*` is any run of characters; `\\*` and `\\\\` are a literal star and backslash."""
    if "**" in pattern:
        raise InvalidEventPattern(f"wildcard {pattern!r}: consecutive wildcard characters are not allowed")
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            if i + 1 >= len(pattern) or pattern[i + 1] not in "*\\":
                raise InvalidEventPattern(f"wildcard {pattern!r}: '\\' may only escape '*' or '\\'")
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "*" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _string_arg(operator: str, value: Any) -> tuple[str, bool]:
    """The argument of prefix/suffix: a string, or {"equals-ignore-case": string}."""
    if isinstance(value, str):
        return value, False
    if (isinstance(value, dict) and set(value) == {"equals-ignore-case"}
            and isinstance(value["equals-ignore-case"], str)):
        return value["equals-ignore-case"], True
    raise InvalidEventPattern(f"{operator!r} takes a string or {{\"equals-ignore-case\": string}}, not {value!r}")


def _strings(operator: str, value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) for v in values):
        raise InvalidEventPattern(f"{operator!r} takes a string or a non-empty list of strings, not {value!r}")
    return values


Matcher = Callable[[Any], bool]  # called with a leaf value, or _MISSING when the field has none


def _compile_matcher(spec: Any) -> Matcher:
    if _is_scalar(spec):
        return lambda v: v is not _MISSING and _literal_equal(spec, v)
    if not isinstance(spec, dict) or len(spec) != 1:
        raise InvalidEventPattern(f"a match value must be a string, number, boolean, null or an object with one "
                                  f"operator, not {spec!r}")
    (operator, arg), = spec.items()
    if operator == "exists":
        if not isinstance(arg, bool):
            raise InvalidEventPattern(f"'exists' takes true or false, not {arg!r}")
        return lambda v: (v is not _MISSING) == arg
    if operator == "anything-but":
        inner = _compile_anything_but(arg)
        return lambda v: v is not _MISSING and not inner(v)
    if operator in ("prefix", "suffix"):
        text, fold = _string_arg(operator, arg)
        if fold:
            text = text.casefold()
        if operator == "prefix":
            return lambda v: isinstance(v, str) and (v.casefold() if fold else v).startswith(text)
        return lambda v: isinstance(v, str) and (v.casefold() if fold else v).endswith(text)
    if operator == "equals-ignore-case":
        folded = {s.casefold() for s in _strings(operator, arg)}
        return lambda v: isinstance(v, str) and v.casefold() in folded
    if operator == "wildcard":
        regexes = [_wildcard_regex(s) for s in _strings(operator, arg)]
        return lambda v: isinstance(v, str) and any(r.fullmatch(v) for r in regexes)
    if operator == "numeric":
        return _compile_numeric(arg)
    if operator == "cidr":
        if not isinstance(arg, str):
            raise InvalidEventPattern(f"'cidr' takes a string, not {arg!r}")
        try:
            network = ipaddress.ip_network(arg, strict=False)
        except ValueError as exc:
            raise InvalidEventPattern(f"'cidr' {arg!r} is not a CIDR block: {exc}") from None

        def in_network(v: Any) -> bool:
            if not isinstance(v, str):
                return False
            try:
                return ipaddress.ip_address(v) in network
            except ValueError:
                return False
        return in_network
    raise InvalidEventPattern(f"unsupported operator {operator!r}; this stand-in supports {', '.join(_SUPPORTED)}")


def _compile_anything_but(arg: Any) -> Matcher:
    """What `anything-but` excludes: literal(s), or one prefix/suffix/equals-ignore-case/wildcard."""
    if _is_scalar(arg):
        return lambda v: _literal_equal(arg, v)
    if isinstance(arg, list):
        if not arg or not all(_is_scalar(a) and a is not None for a in arg):
            raise InvalidEventPattern(f"'anything-but' list must hold strings or numbers, not {arg!r}")
        return lambda v: any(_literal_equal(a, v) for a in arg)
    if isinstance(arg, dict) and len(arg) == 1 and next(iter(arg)) in ("prefix", "suffix", "equals-ignore-case",
                                                                       "wildcard"):
        operator, value = next(iter(arg.items()))
        if operator in ("prefix", "suffix") and not isinstance(value, str):
            raise InvalidEventPattern(f"'anything-but' {operator!r} takes a string, not {value!r}")
        return _compile_matcher(arg)
    raise InvalidEventPattern(f"unsupported 'anything-but' argument {arg!r}")


def _compile_numeric(arg: Any) -> Matcher:
    if not isinstance(arg, list) or len(arg) not in (2, 4):
        raise InvalidEventPattern(f"'numeric' takes [op, number] or [op, number, op, number], not {arg!r}")
    checks: list[tuple[str, float]] = []
    for op, bound in zip(arg[0::2], arg[1::2], strict=True):  # len(arg) is 2 or 4
        if op not in _NUMERIC_OPS or not _is_number(bound):
            raise InvalidEventPattern(f"'numeric' {arg!r}: each operator must be one of {sorted(_NUMERIC_OPS)} "
                                      f"followed by a number")
        checks.append((op, float(bound)))
    if len(checks) == 2:
        lower = [op for op, _ in checks if op in (">", ">=")]
        upper = [op for op, _ in checks if op in ("<", "<=")]
        if len(lower) != 1 or len(upper) != 1:
            raise InvalidEventPattern(f"'numeric' {arg!r}: a range needs one lower (>, >=) and one upper (<, <=) bound")
    compare = {"=": float.__eq__, "<": float.__lt__, "<=": float.__le__, ">": float.__gt__, ">=": float.__ge__}
    return lambda v: _is_number(v) and all(compare[op](float(v), bound) for op, bound in checks)


@dataclass(frozen=True)
class CompiledPattern:
    """A compiled pattern (or sub-pattern): per field, either matchers for leaves or a nested pattern."""

    leaves: tuple[tuple[str, tuple[Matcher, ...]], ...]
    children: tuple[tuple[str, CompiledPattern], ...]
    alternatives: tuple[tuple[CompiledPattern, ...], ...]  # each `$or`: a list of patterns, any may match


def compile_pattern(pattern: Mapping[str, Any] | str) -> CompiledPattern:
    """Validates an event pattern (dict or its JSON text) and compiles it; raises InvalidEventPattern."""
    if isinstance(pattern, str):
        try:
            pattern = json.loads(pattern)
        except json.JSONDecodeError as exc:
            raise InvalidEventPattern(f"event pattern is not JSON: {exc}") from None
    if not isinstance(pattern, dict) or not pattern:
        raise InvalidEventPattern("an event pattern must be a non-empty JSON object")
    return _compile_node(pattern, "")


def _compile_node(pattern: dict[str, Any], path: str) -> CompiledPattern:
    leaves, children, alternatives = [], [], []
    for field_name, value in pattern.items():
        where = f"{path}.{field_name}" if path else field_name
        if field_name == "$or":
            if not isinstance(value, list) or len(value) < 2 or not all(isinstance(p, dict) and p for p in value):
                raise InvalidEventPattern(f"{where}: '$or' takes a list of at least two non-empty patterns")
            alternatives.append(tuple(_compile_node(p, path) for p in value))
        elif isinstance(value, dict):
            if not value:
                raise InvalidEventPattern(f"{where}: an empty object matches nothing")
            children.append((field_name, _compile_node(value, where)))
        elif isinstance(value, list):
            if not value:
                raise InvalidEventPattern(f"{where}: empty arrays are not allowed")
            try:
                leaves.append((field_name, tuple(_compile_matcher(spec) for spec in value)))
            except InvalidEventPattern as exc:
                raise InvalidEventPattern(f"{where}: {exc}") from None
        else:
            raise InvalidEventPattern(f"{where}: a pattern value must be an object or an array, not {value!r}")
    return CompiledPattern(tuple(leaves), tuple(children), tuple(alternatives))


def _leaf_values(value: Any) -> list[Any]:
    """The leaf values at a field: a scalar, or the scalars in an array (objects are not leaves)."""
    if value is _MISSING:
        return []
    items = value if isinstance(value, list) else [value]
    flat: list[Any] = []
    for item in items:
        if isinstance(item, list):
            flat.extend(_leaf_values(item))
        elif _is_scalar(item):
            flat.append(item)
    return flat


def _objects(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [o for item in value for o in _objects(item)]
    return []


def _node_matches(node: CompiledPattern, event: dict[str, Any]) -> bool:
    for field_name, matchers in node.leaves:
        values = _leaf_values(event.get(field_name, _MISSING))
        candidates = values or [_MISSING]
        if not any(m(v) for m in matchers for v in candidates):
            return False
    for field_name, child in node.children:
        if not any(_node_matches(child, obj) for obj in _objects(event.get(field_name, _MISSING))):
            return False
    return all(any(_node_matches(option, event) for option in options) for options in node.alternatives)


def matches(pattern: Mapping[str, Any] | str | CompiledPattern, event: Mapping[str, Any]) -> bool:
    """True if `event` matches the EventBridge `pattern`."""
    node = pattern if isinstance(pattern, CompiledPattern) else compile_pattern(pattern)
    return _node_matches(node, dict(event))
