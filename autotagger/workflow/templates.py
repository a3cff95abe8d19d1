"""Payload templates (Parameters, ResultSelector, ItemSelector) compiled into evaluators.

A template is compiled once at load: constant parts are kept as they are (values are never
mutated, so they can be shared), and each `"name.$"` field becomes a path, a context path (`$$.`)
or an intrinsic call. A path that does not resolve is a States.Runtime error, with the message
Step Functions gives.
"""

from __future__ import annotations

from collections.abc import Callable
from random import Random
from typing import Any

from .failures import DefinitionError, runtime_error
from .intrinsics import compile_intrinsic, is_intrinsic, json_text
from .paths import MISSING, ContextGetter, compile_path

# (data, context, rng, state name) -> value; `context()` builds the context object `$$` on demand
Evaluator = Callable[[Any, ContextGetter, Random, str], Any]


def compile_dynamic(text: Any, where: str, *, intrinsics: bool = True) -> Evaluator:
    """A value given by a path, a context path or (where allowed) an intrinsic function."""
    if not isinstance(text, str):
        raise DefinitionError(f"{where}: expected a path string, got {json_text(text)}")
    if is_intrinsic(text):
        if not intrinsics:
            raise DefinitionError(f"{where}: intrinsic functions are not allowed here")
        try:
            call = compile_intrinsic(text)
        except DefinitionError as exc:
            raise DefinitionError(f"{where}: {exc}") from None
        return lambda data, context, rng, state: call.evaluate(data, context, rng)
    context_path = text.startswith("$$")
    try:
        path = compile_path(text[1:] if context_path else text)
    except DefinitionError as exc:
        raise DefinitionError(f"{where}: {exc}") from None
    field = where[:-2].rsplit(".", 1)[-1] + ".$" if where.endswith(".$") else where

    def resolve(data: Any, context: ContextGetter, rng: Random, state: str) -> Any:
        value = path.get(context() if context_path else data)
        if value is MISSING:
            source = context() if context_path else data
            raise runtime_error(
                state,
                f"The JSONPath '{text}' specified for the field '{field}' "
                f"could not be found in the input '{json_text(source)}'",
            )
        return value

    return resolve


def compile_template(template: Any, where: str) -> Evaluator:
    """Compiles a payload template; `where` names the state and field for error messages."""
    if isinstance(template, dict):
        parts: list[tuple[str, bool, Any]] = []
        dynamic = False
        for key, value in template.items():
            if key.endswith(".$"):
                parts.append((key[:-2], True, compile_dynamic(value, f"{where}.{key}")))
                dynamic = True
            else:
                inner = compile_template(value, f"{where}.{key}")
                if isinstance(inner, _Constant):
                    parts.append((key, False, inner.value))
                else:
                    parts.append((key, True, inner))
                    dynamic = True
        if not dynamic:
            return _Constant(template)

        def build(data: Any, context: ContextGetter, rng: Random, state: str) -> dict[str, Any]:
            return {
                key: (value(data, context, rng, state) if is_dynamic else value) for key, is_dynamic, value in parts
            }

        return build
    if isinstance(template, list):
        items = [compile_template(item, f"{where}[{i}]") for i, item in enumerate(template)]
        if all(isinstance(item, _Constant) for item in items):
            return _Constant(template)
        return lambda data, context, rng, state: [item(data, context, rng, state) for item in items]
    return _Constant(template)


class _Constant:
    """The evaluator of a template without paths: its value, shared (values are never mutated)."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def __call__(self, data: Any, context: ContextGetter, rng: Random, state: str) -> Any:
        return self.value
