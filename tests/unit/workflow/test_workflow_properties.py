"""Property tests of the JSONPath and intrinsic-function layer: for generated documents and values,
paths read what is there (and writes never mutate), and the intrinsics keep their round trips."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from autotagger.workflow.intrinsics import compile_intrinsic
from autotagger.workflow.paths import MISSING, compile_path, set_path

PROPERTIES = settings(max_examples=60, deadline=None)

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,7}", fullmatch=True)
scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=12)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(names, inner, max_size=4), max_leaves=8)
documents = st.dictionaries(names, json_values, min_size=1, max_size=5)


def evaluate(expression: str, data: dict):
    return compile_intrinsic(expression).evaluate(data, lambda: {}, None)


def all_paths(value, steps=()):
    """Every (steps, value) inside a document, the document itself first."""
    yield steps, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from all_paths(item, steps + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from all_paths(item, steps + (index,))


def path_text(steps) -> str:
    return "$" + "".join(f".{s}" if isinstance(s, str) else f"[{s}]" for s in steps)


@PROPERTIES
@given(documents, st.data())
def test_GIVEN_a_document_WHEN_any_path_inside_it_is_read_THEN_the_value_there_comes_back(document, data):
    steps, expected = data.draw(st.sampled_from(list(all_paths(document))))

    assert compile_path(path_text(steps)).get(document) == expected


@PROPERTIES
@given(documents, names)
def test_GIVEN_a_document_WHEN_a_field_it_lacks_is_read_THEN_missing(document, name):
    if name not in document:
        assert compile_path(f"$.{name}").get(document) is MISSING


@PROPERTIES
@given(documents, st.data(), json_values)
def test_GIVEN_a_document_WHEN_a_value_is_set_at_a_path_THEN_it_is_read_back_and_the_original_is_untouched(
        document, data, value):
    steps, _ = data.draw(st.sampled_from(list(all_paths(document))))
    before = json.dumps(document)

    written = set_path(document, steps, value)

    assert compile_path(path_text(steps)).get(written) == value
    assert json.dumps(document) == before


@PROPERTIES
@given(st.lists(json_values, max_size=6))
def test_GIVEN_values_WHEN_States_Array_and_ArrayLength_run_THEN_the_array_holds_them_in_order(values):
    data = {f"v{i}": v for i, v in enumerate(values)}
    array = evaluate("States.Array(" + ", ".join(f"$.v{i}" for i in range(len(values))) + ")", data)

    assert array == values
    assert evaluate("States.ArrayLength($.a)", {"a": array}) == len(values)


@PROPERTIES
@given(st.integers(-2**30, 2**30), st.integers(-2**30, 2**30))
def test_GIVEN_two_integers_WHEN_MathAdd_runs_THEN_their_sum(a, b):
    assert evaluate("States.MathAdd($.a, $.b)", {"a": a, "b": b}) == a + b


@PROPERTIES
@given(st.text(max_size=200))
def test_GIVEN_text_WHEN_Base64Encode_then_Base64Decode_run_THEN_the_text_comes_back(text):
    encoded = evaluate("States.Base64Encode($.t)", {"t": text})

    assert evaluate("States.Base64Decode($.e)", {"e": encoded}) == text


@PROPERTIES
@given(json_values)
def test_GIVEN_a_value_WHEN_JsonToString_then_StringToJson_run_THEN_the_value_comes_back(value):
    text = evaluate("States.JsonToString($.v)", {"v": value})

    assert evaluate("States.StringToJson($.t)", {"t": text}) == value


def split_reference(text: str, delimiters: str) -> list[str]:
    """The documented rule: every delimiter character splits, empty parts are dropped."""
    parts, current = [], ""
    for ch in text:
        if delimiters and ch in delimiters:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p for p in parts if p]


@PROPERTIES
@given(st.text(alphabet="ab,;. -", max_size=30), st.text(alphabet=",;. -", max_size=3))
def test_GIVEN_text_and_delimiters_WHEN_StringSplit_runs_THEN_it_splits_like_the_reference(text, delimiters):
    assert evaluate("States.StringSplit($.t, $.d)", {"t": text, "d": delimiters}) == split_reference(text, delimiters)


@PROPERTIES
@given(st.lists(json_values, max_size=10), st.integers(1, 5))
def test_GIVEN_an_array_WHEN_ArrayPartition_runs_THEN_chunks_of_the_size_rebuild_it(array, size):
    chunks = evaluate("States.ArrayPartition($.a, $.n)", {"a": array, "n": size})

    assert [item for chunk in chunks for item in chunk] == array
    assert all(len(chunk) == size for chunk in chunks[:-1]) and all(0 < len(c) <= size for c in chunks)
