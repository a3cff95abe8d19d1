"""Intrinsic functions (`States.Format(...)` and friends), parsed once at load time.

No maintained Python library implements the intrinsic grammar, so this module holds a small
recursive-descent parser for it: string literals in single quotes (with `\\'`, `\\{`, `\\}`, `\\\\`
escapes), numbers, `null`/`true`/`false`, paths (`$.x`, `$$.Execution.Id`) and nested calls, at
most 10 deep as in Step Functions. Evaluation errors raise States.IntrinsicFailure.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import uuid
from collections.abc import Callable
from random import Random
from typing import Any

from .failures import INTRINSIC_FAILURE, DefinitionError, StatesFailure
from .paths import MISSING, ContextGetter, compile_path

MAX_NESTING = 10
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")
_NAME = re.compile(r"States\.[A-Za-z0-9]+")


_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def json_text(value: Any) -> str:
    """Compact JSON, as Step Functions writes it (States.JsonToString, history payloads)."""
    return _encode(value)


class _Literal:
    __slots__ = ("value", "raw")

    def __init__(self, value: Any, raw: str | None = None):
        self.value = value
        self.raw = raw  # the string literal with its escapes, which States.Format needs


class _PathArg:
    __slots__ = ("path", "context")

    def __init__(self, text: str):
        self.context = text.startswith("$$")
        self.path = compile_path(text[1:] if self.context else text)


class Call:
    """A parsed intrinsic call; `evaluate(data, context, rng)` returns its JSON value (`context()` gives `$$`)."""

    __slots__ = ("name", "args", "text")

    def __init__(self, name: str, args: list[_Argument], text: str):
        self.name = name
        self.args = args
        self.text = text

    def evaluate(self, data: Any, context: ContextGetter, rng: Random) -> Any:
        values = []
        for arg in self.args:
            if isinstance(arg, _Literal):
                values.append(arg.value)
            elif isinstance(arg, _PathArg):
                value = arg.path.get(context() if arg.context else data)
                if value is MISSING:
                    raise _failure(self.name, f"the path {('$' if arg.context else '') + arg.path.text} was not found")
                values.append(value)
            else:
                values.append(arg.evaluate(data, context, rng))
        if self.name == "States.Format":
            return _format(self.args[0], values)
        implementation = FUNCTIONS[self.name][2]
        if implementation is None:  # States.MathRandom: it needs the execution's random generator
            return _math_random(rng, *values)
        return implementation(*values)


_Argument = _Literal | _PathArg | Call


def _failure(name: str, message: str) -> StatesFailure:
    return StatesFailure(INTRINSIC_FAILURE, f"Invalid arguments in {name}: {message}")


def _require(name: str, value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise _failure(name, f"expected {what}, got {json_text(value)}")
    return value


def _integer(name: str, value: Any) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (isinstance(value, float) and not value.is_integer())
    ):
        raise _failure(name, f"expected an integer, got {json_text(value)}")
    return int(value)


def _format(template_arg: _Argument, values: list[Any]) -> str:
    template = values[0]
    if not isinstance(template, str):
        raise _failure("States.Format", "the template must be a string")
    raw = template_arg.raw if isinstance(template_arg, _Literal) else None
    pieces: list[str] = []
    holes = 0
    text = raw if raw is not None else template
    i = 0
    buf = []
    while i < len(text):
        ch = text[i]
        if raw is not None and ch == "\\" and i + 1 < len(text):
            buf.append(text[i + 1])
            i += 2
            continue
        if ch == "{" and text.startswith("{}", i):
            pieces.append("".join(buf))
            buf = []
            holes += 1
            i += 2
            continue
        buf.append(ch)
        i += 1
    pieces.append("".join(buf))
    args = values[1:]
    if holes != len(args):
        raise _failure(
            "States.Format", f"the template has {holes} placeholder(s) but {len(args)} argument(s) were given"
        )
    out = [pieces[0]]
    for arg, piece in zip(args, pieces[1:], strict=True):
        if isinstance(arg, (dict, list)):
            raise _failure("States.Format", "arguments must be strings, numbers, booleans or null")
        out.append(arg if isinstance(arg, str) else json_text(arg))
        out.append(piece)
    return "".join(out)


def _string_to_json(value: Any) -> Any:
    _require("States.StringToJson", value, str, "a string")
    try:
        return json.loads(value)
    except ValueError as exc:
        raise _failure("States.StringToJson", f"not JSON text ({exc})") from None


def _array_partition(array: Any, size: Any) -> list[Any]:
    _require("States.ArrayPartition", array, list, "an array")
    size = _integer("States.ArrayPartition", size)
    if size <= 0:
        raise _failure("States.ArrayPartition", "the chunk size must be positive")
    return [array[i : i + size] for i in range(0, len(array), size)]


def _array_range(start: Any, end: Any, step: Any) -> list[Any]:
    start, end, step = (_integer("States.ArrayRange", v) for v in (start, end, step))
    if step == 0:
        raise _failure("States.ArrayRange", "the step must not be 0")
    values = list(range(start, end + (1 if step > 0 else -1), step))
    if len(values) > 1000:
        raise _failure("States.ArrayRange", "the range may hold at most 1000 items")
    return values


def _array_get_item(array: Any, index: Any) -> Any:
    _require("States.ArrayGetItem", array, list, "an array")
    index = _integer("States.ArrayGetItem", index)
    if not 0 <= index < len(array):
        raise _failure("States.ArrayGetItem", f"index {index} is outside the array of {len(array)}")
    return array[index]


def _array_unique(array: Any) -> list[Any]:
    _require("States.ArrayUnique", array, list, "an array")
    seen: set[str] = set()
    out = []
    for item in array:
        key = json.dumps(item, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _array_contains(array: Any, value: Any) -> bool:
    _require("States.ArrayContains", array, list, "an array")
    return any(item == value and type(item) is type(value) for item in array)


def _base64_encode(value: Any) -> str:
    _require("States.Base64Encode", value, str, "a string")
    if len(value) > 10_000:
        raise _failure("States.Base64Encode", "the input may hold at most 10000 characters")
    return base64.b64encode(value.encode()).decode()


def _base64_decode(value: Any) -> str:
    _require("States.Base64Decode", value, str, "a string")
    try:
        return base64.b64decode(value, validate=True).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise _failure("States.Base64Decode", f"not base64 of UTF-8 text ({exc})") from None


_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}


def _hash(value: Any, algorithm: Any) -> str:
    _require("States.Hash", value, str, "a string")
    if algorithm not in _HASHES:
        raise _failure("States.Hash", f"the algorithm must be one of {', '.join(_HASHES)}")
    if len(value) > 10_000:
        raise _failure("States.Hash", "the input may hold at most 10000 characters")
    return hashlib.new(_HASHES[algorithm], value.encode()).hexdigest()


def _json_merge(left: Any, right: Any, deep: Any) -> dict[str, Any]:
    _require("States.JsonMerge", left, dict, "an object")
    _require("States.JsonMerge", right, dict, "an object")
    if deep is not False:
        raise _failure("States.JsonMerge", "only shallow merges (false) are supported, as in Step Functions")
    return {**left, **right}


_INT32 = (-2_147_483_648, 2_147_483_647)


def _math_number(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _failure(name, f"expected a number, got {json_text(value)}")
    rounded = math.floor(value + 0.5)  # Step Functions rounds non-integers to the nearest integer
    if not _INT32[0] <= rounded <= _INT32[1]:
        raise _failure(name, f"{value} is outside the 32-bit integer range")
    return rounded


def _math_add(a: Any, b: Any) -> int:
    return _math_number("States.MathAdd", a) + _math_number("States.MathAdd", b)


def _math_random(rng: Random, start: Any, end: Any, seed: Any = None) -> int:
    start, end = _math_number("States.MathRandom", start), _math_number("States.MathRandom", end)
    if start >= end:
        raise _failure("States.MathRandom", "start must be lower than end")
    if seed is not None:
        import random as _random

        rng = _random.Random(_math_number("States.MathRandom", seed))
    return rng.randrange(start, end)


def _string_split(value: Any, delimiters: Any) -> list[Any]:
    _require("States.StringSplit", value, str, "a string")
    _require("States.StringSplit", delimiters, str, "a string")
    if not delimiters:
        return [value] if value else []
    return [part for part in re.split("|".join(map(re.escape, delimiters)), value) if part]


# name -> (min args, max args or None, implementation)
FUNCTIONS: dict[str, tuple[int, int | None, Callable[..., Any] | None]] = {
    "States.Format": (1, None, None),  # evaluated by _format, which needs the raw template
    "States.StringToJson": (1, 1, _string_to_json),
    "States.JsonToString": (1, 1, json_text),
    "States.Array": (0, None, lambda *values: list(values)),
    "States.ArrayPartition": (2, 2, _array_partition),
    "States.ArrayContains": (2, 2, _array_contains),
    "States.ArrayRange": (3, 3, _array_range),
    "States.ArrayGetItem": (2, 2, _array_get_item),
    "States.ArrayLength": (1, 1, lambda array: len(_require("States.ArrayLength", array, list, "an array"))),
    "States.ArrayUnique": (1, 1, _array_unique),
    "States.Base64Encode": (1, 1, _base64_encode),
    "States.Base64Decode": (1, 1, _base64_decode),
    "States.Hash": (2, 2, _hash),
    "States.JsonMerge": (3, 3, _json_merge),
    "States.MathRandom": (2, 3, None),  # needs the execution's random generator
    "States.MathAdd": (2, 2, _math_add),
    "States.StringSplit": (2, 2, _string_split),
    "States.UUID": (0, 0, lambda: str(uuid.uuid4())),
}


def is_intrinsic(text: str) -> bool:
    return text.startswith("States.")


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.i = 0

    def error(self, message: str) -> DefinitionError:
        return DefinitionError(f"invalid intrinsic function {self.text!r}: {message} (at character {self.i})")

    def skip_spaces(self) -> None:
        while self.i < len(self.text) and self.text[self.i] == " ":
            self.i += 1

    def call(self, depth: int) -> Call:
        if depth > MAX_NESTING:
            raise self.error(f"intrinsic functions nest at most {MAX_NESTING} deep")
        match = _NAME.match(self.text, self.i)
        if not match:
            raise self.error("expected a function name such as States.Format")
        name = match.group()
        if name not in FUNCTIONS:
            raise self.error(f"unknown function {name}")
        self.i = match.end()
        if self.i >= len(self.text) or self.text[self.i] != "(":
            raise self.error(f"expected '(' after {name}")
        self.i += 1
        args: list[_Argument] = []
        self.skip_spaces()
        if self.i < len(self.text) and self.text[self.i] == ")":
            self.i += 1
        else:
            while True:
                self.skip_spaces()
                args.append(self.argument(depth))
                self.skip_spaces()
                if self.i >= len(self.text):
                    raise self.error("missing ')'")
                if self.text[self.i] == ",":
                    self.i += 1
                    continue
                if self.text[self.i] == ")":
                    self.i += 1
                    break
                raise self.error("expected ',' or ')'")
        low, high, _ = FUNCTIONS[name]
        if len(args) < low or (high is not None and len(args) > high):
            expected = f"{low}" if low == high else f"{low} to {high}" if high is not None else f"at least {low}"
            raise self.error(f"{name} takes {expected} argument(s), got {len(args)}")
        return Call(name, args, self.text)

    def argument(self, depth: int) -> _Argument:
        text, i = self.text, self.i
        if i >= len(text):
            raise self.error("missing argument")
        ch = text[i]
        if ch == "'":
            return self.string()
        if ch == "$":
            return self.path()
        if text.startswith("States.", i):
            return self.call(depth + 1)
        for word, value in (("null", None), ("true", True), ("false", False)):
            if text.startswith(word, i):
                self.i += len(word)
                return _Literal(value)
        match = _NUMBER.match(text, i)
        if match:
            self.i = match.end()
            number = match.group()
            return _Literal(float(number) if any(c in number for c in ".eE") else int(number))
        raise self.error("expected a string, number, path or function")

    def string(self) -> _Literal:
        text = self.text
        self.i += 1
        start = self.i
        value = []
        while self.i < len(text):
            ch = text[self.i]
            if ch == "\\" and self.i + 1 < len(text):
                value.append(text[self.i + 1])
                self.i += 2
                continue
            if ch == "'":
                raw = text[start : self.i]
                self.i += 1
                return _Literal("".join(value), raw)
            value.append(ch)
            self.i += 1
        raise self.error("unterminated string literal")

    def path(self) -> _PathArg:
        text, start = self.text, self.i
        depth = 0
        quote = None
        while self.i < len(text):
            ch = text[self.i]
            if quote:
                if ch == quote:
                    quote = None
            elif ch in "'\"":
                quote = ch
            elif ch in "[(":
                depth += 1
            elif ch in "])":
                if depth == 0:
                    break
                depth -= 1
            elif ch == "," and depth == 0:
                break
            self.i += 1
        return _PathArg(text[start : self.i].rstrip())


def compile_intrinsic(text: str) -> Call:
    """Parses `States.X(...)`; raises DefinitionError with the reason when it is not valid."""
    parser = _Parser(text)
    call = parser.call(1)
    parser.skip_spaces()
    if parser.i != len(text):
        raise parser.error("unexpected text after the closing ')'")
    return call
