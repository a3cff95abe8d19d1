"""Choice rules compiled into predicates.

As in Step Functions: And/Or short-circuit (so `IsPresent` can guard a later test), a comparison
whose operand has the wrong type is simply false, and a Variable that does not resolve is a
States.Runtime error for every operator but IsPresent. StringMatches patterns are compiled to
regular expressions once (`*` is the only wildcard; `\\*` and `\\\\` escape).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .failures import DefinitionError, runtime_error
from .intrinsics import json_text
from .paths import MISSING, ContextGetter, compile_path

Predicate = Callable[[Any, ContextGetter, str], bool]  # (data, context, state name) -> bool
Relation = Callable[[Any, Any], bool]

_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def parse_timestamp(value: Any) -> datetime | None:
    """An RFC 3339 timestamp as Step Functions accepts it (upper-case T, Z or offset), else None."""
    if type(value) is not str or not _TIMESTAMP.fullmatch(value):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _is_number(value: Any) -> bool:
    return (type(value) is int or type(value) is float)


def _is_string(value: Any) -> bool:
    return type(value) is str


_RELATIONS: dict[str, Relation] = {
    "Equals": operator.eq, "LessThan": operator.lt, "GreaterThan": operator.gt,
    "LessThanEquals": operator.le, "GreaterThanEquals": operator.ge,
}

# operator family -> (type test on both operands, conversion before comparing)
_FAMILIES: dict[str, tuple[Callable[[Any], bool], Callable[[Any], Any]]] = {
    "String": (_is_string, lambda v: v),
    "Numeric": (_is_number, lambda v: v),
    "Timestamp": (lambda v: parse_timestamp(v) is not None, parse_timestamp),
}

COMPARISONS: set[str] = {f"{family}{relation}" for family in _FAMILIES for relation in _RELATIONS}
COMPARISONS |= {"BooleanEquals", "StringMatches"}
TYPE_TESTS = {"IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"}
OPERATORS = COMPARISONS | {f"{op}Path" for op in COMPARISONS if op != "StringMatches"} | TYPE_TESTS


def compile_string_matches(pattern: str) -> re.Pattern[str]:
    parts = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        parts.append(".*" if ch == "*" else re.escape(ch))
        i += 1
    return re.compile("".join(parts), re.DOTALL)


def _type_test(name: str) -> Callable[[Any], bool]:
    return {
        "IsNull": lambda v: v is None,
        "IsNumeric": _is_number,
        "IsString": _is_string,
        "IsBoolean": lambda v: type(v) is bool,
        "IsTimestamp": lambda v: parse_timestamp(v) is not None,
    }[name]


def _variable_reader(text: Any, where: str) -> Callable[[Any, ContextGetter], Any]:
    if not isinstance(text, str):
        raise DefinitionError(f"{where}: Variable must be a path string")
    context = text.startswith("$$")
    try:
        path = compile_path(text[1:] if context else text)
    except DefinitionError as exc:
        raise DefinitionError(f"{where}: {exc}") from None
    if context:
        return lambda data, ctx: path.get(ctx())
    return lambda data, ctx: path.get(data)


def compile_rule(rule: Any, where: str, *, top_level: bool) -> Predicate:
    """Compiles one Choice rule (with `Next` at the top level only) into a predicate."""
    if not isinstance(rule, dict):
        raise DefinitionError(f"{where}: a choice rule must be an object")
    allowed = {"Comment"} | ({"Next"} if top_level else set())
    boolean = [key for key in ("And", "Or", "Not") if key in rule]
    operators = [key for key in rule if key in OPERATORS]
    if top_level and "Next" not in rule:
        raise DefinitionError(f"{where}: a top-level choice rule needs Next")
    if not top_level and "Next" in rule:
        raise DefinitionError(f"{where}: Next is only allowed on top-level choice rules")
    if "Condition" in rule or "Assign" in rule:
        raise DefinitionError(f"{where}: 'Condition'/'Assign' (JSONata and variables) are not supported by this engine")
    if len(boolean) + len(operators) != 1:
        raise DefinitionError(
            f"{where}: a choice rule needs exactly one of And, Or, Not or a comparison operator, "
            f"got {sorted(boolean + operators) or 'none'}"
        )
    if boolean:
        key = boolean[0]
        unknown = set(rule) - allowed - {key}
        if unknown:
            raise DefinitionError(f"{where}: unknown field(s) {sorted(unknown)} in a {key} rule")
        if key == "Not":
            inner = compile_rule(rule["Not"], f"{where}.Not", top_level=False)
            return lambda data, ctx, state: not inner(data, ctx, state)
        if not isinstance(rule[key], list) or not rule[key]:
            raise DefinitionError(f"{where}.{key}: must be a non-empty array of rules")
        inners = tuple(compile_rule(r, f"{where}.{key}[{i}]", top_level=False) for i, r in enumerate(rule[key]))
        if key == "Or":
            merged = _merge_string_matches(rule["Or"], f"{where}.Or")
            if merged is not None:
                return merged
        if key == "And":
            return lambda data, ctx, state: all(inner(data, ctx, state) for inner in inners)
        return lambda data, ctx, state: any(inner(data, ctx, state) for inner in inners)

    op = operators[0]
    unknown = set(rule) - allowed - {op, "Variable"}
    if unknown:
        raise DefinitionError(f"{where}: unknown field(s) {sorted(unknown)} in a choice rule")
    if "Variable" not in rule:
        raise DefinitionError(f"{where}: {op} needs a Variable")
    variable_text = rule["Variable"]
    read = _variable_reader(variable_text, f"{where}.Variable")
    operand = rule[op]

    def missing(state: str) -> Exception:
        return runtime_error(
            state, f"Invalid path '{variable_text}': The choice state's condition path references an invalid value."
        )

    if op in TYPE_TESTS:
        if type(operand) is not bool:
            raise DefinitionError(f"{where}.{op}: must be true or false")
        if op == "IsPresent":
            return lambda data, ctx, state: (read(data, ctx) is not MISSING) == operand
        has_type = _type_test(op)

        def type_predicate(data: Any, ctx: ContextGetter, state: str) -> bool:
            value = read(data, ctx)
            if value is MISSING:
                raise missing(state)
            return has_type(value) == operand

        return type_predicate

    if op.endswith("Path"):
        base = op[:-4]
        read_operand = _variable_reader(operand, f"{where}.{op}")

        def operand_of(data: Any, ctx: ContextGetter, state: str) -> Any:
            value = read_operand(data, ctx)
            if value is MISSING:
                raise runtime_error(
                    state, f"Invalid path '{operand}': The choice state's condition path references an invalid value."
                )
            return value
    else:
        base = op
        _check_operand(base, operand, f"{where}.{op}")

        def operand_of(data: Any, ctx: ContextGetter, state: str) -> Any:
            return operand

    if base == "StringMatches":
        pattern = compile_string_matches(operand)
        fullmatch = pattern.fullmatch

        def matches(data: Any, ctx: ContextGetter, state: str) -> bool:
            value = read(data, ctx)
            if value is MISSING:
                raise missing(state)
            return type(value) is str and fullmatch(value) is not None

        return matches

    test: Callable[[Any], bool]
    convert: Callable[[Any], Any]
    relation: Relation
    if base == "BooleanEquals":
        test, convert, relation = (lambda v: type(v) is bool), (lambda v: v), operator.eq
    else:
        family = next(f for f in _FAMILIES if base.startswith(f))
        test, convert = _FAMILIES[family]
        relation = _RELATIONS[base[len(family) :]]

    def compare(data: Any, ctx: ContextGetter, state: str) -> bool:
        value = read(data, ctx)
        if value is MISSING:
            raise missing(state)
        other = operand_of(data, ctx, state)
        if not (test(value) and test(other)):
            return False
        return relation(convert(value), convert(other))

    return compare


def _merge_string_matches(rules: list[Any], where: str) -> Predicate | None:
    """An Or of StringMatches on one Variable, as one regular expression (same result, one read).

    The workflow's extension check is 32 such rules (JSONPath has no lower-case function), so
    this turns 32 path reads and regex calls into one. Returns None when the Or is anything else.
    """
    variable = None
    for rule in rules:
        if not isinstance(rule, dict) or set(rule) - {"Comment"} != {"Variable", "StringMatches"}:
            return None
        if variable is None:
            variable = rule["Variable"]
        if rule["Variable"] != variable:
            return None
    read = _variable_reader(variable, f"{where}[0].Variable")
    fullmatch = re.compile(
        "|".join(f"(?:{compile_string_matches(rule['StringMatches']).pattern})" for rule in rules), re.DOTALL
    ).fullmatch

    def any_matches(data: Any, ctx: ContextGetter, state: str) -> bool:
        value = read(data, ctx)
        if value is MISSING:
            raise runtime_error(
                state, f"Invalid path '{variable}': The choice state's condition path references an invalid value."
            )
        return type(value) is str and fullmatch(value) is not None

    return any_matches


def _check_operand(op: str, operand: Any, where: str) -> None:
    if op.startswith("String") and type(operand) is not str:
        raise DefinitionError(f"{where}: must be a string, got {json_text(operand)}")
    if op.startswith("Numeric") and not _is_number(operand):
        raise DefinitionError(f"{where}: must be a number, got {json_text(operand)}")
    if op == "BooleanEquals" and type(operand) is not bool:
        raise DefinitionError(f"{where}: must be true or false, got {json_text(operand)}")
    if op.startswith("Timestamp") and parse_timestamp(operand) is None:
        raise DefinitionError(
            f"{where}: must be an RFC 3339 timestamp such as 2016-08-18T17:33:00Z, got {json_text(operand)}"
        )
