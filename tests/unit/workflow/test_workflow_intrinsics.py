"""Intrinsic functions, evaluated through a Pass state's Parameters as a definition uses them."""

from __future__ import annotations

import hashlib
import re

import pytest
from workflow_helpers import machine, registry


def evaluate(expression: str, data=None):
    execution = machine({"P": {"Type": "Pass", "End": True, "Parameters": {"v.$": expression}}}).run(data or {}, registry())
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    return execution.output["v"]


def failure(expression: str, data=None):
    execution = machine({"P": {"Type": "Pass", "End": True, "Parameters": {"v.$": expression}}}).run(data or {}, registry())
    return execution.error


def test_GIVEN_Format_with_paths_WHEN_evaluated_THEN_placeholders_are_filled_in_order():
    assert evaluate("States.Format('{} is {} bytes', $.k, $.n)", {"k": "a.jpg", "n": 5}) == "a.jpg is 5 bytes"


def test_GIVEN_Format_with_escaped_braces_WHEN_evaluated_THEN_they_are_literal():
    assert evaluate("States.Format('\\{\\} {}', 'x')") == "{} x"


def test_GIVEN_Format_with_too_few_arguments_WHEN_evaluated_THEN_it_fails_with_IntrinsicFailure():
    assert failure("States.Format('{} {}', 'x')") == "States.IntrinsicFailure"


def test_GIVEN_Format_with_an_object_argument_WHEN_evaluated_THEN_it_fails_with_IntrinsicFailure():
    assert failure("States.Format('{}', $.o)", {"o": {"a": 1}}) == "States.IntrinsicFailure"


def test_GIVEN_StringToJson_WHEN_evaluated_THEN_the_text_becomes_a_value():
    assert evaluate("States.StringToJson('{\"a\": [1, 2]}')") == {"a": [1, 2]}


def test_GIVEN_StringToJson_of_invalid_text_WHEN_evaluated_THEN_it_fails_with_IntrinsicFailure():
    assert failure("States.StringToJson('{nope')") == "States.IntrinsicFailure"


def test_GIVEN_JsonToString_WHEN_evaluated_THEN_the_value_is_compact_JSON_in_key_order():
    assert evaluate("States.JsonToString($.o)", {"o": {"b": 1, "a": "é"}}) == '{"b":1,"a":"é"}'


def test_GIVEN_Array_WHEN_evaluated_THEN_the_arguments_form_an_array():
    assert evaluate("States.Array('a', 1, $.x, null)", {"x": {"y": 2}}) == ["a", 1, {"y": 2}, None]


def test_GIVEN_UUID_WHEN_evaluated_THEN_a_version_4_uuid_is_returned():
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", evaluate("States.UUID()"))


@pytest.mark.parametrize("algorithm, name", [("MD5", "md5"), ("SHA-1", "sha1"), ("SHA-256", "sha256"), ("SHA-384", "sha384"), ("SHA-512", "sha512")])
def test_GIVEN_Hash_WHEN_evaluated_THEN_the_hex_digest_of_the_UTF8_text_is_returned(algorithm, name):
    assert evaluate(f"States.Hash($.t, '{algorithm}')", {"t": "bucket/kéy"}) == hashlib.new(name, "bucket/kéy".encode()).hexdigest()


def test_GIVEN_Hash_with_an_unknown_algorithm_WHEN_evaluated_THEN_it_fails_with_IntrinsicFailure():
    assert failure("States.Hash('a', 'CRC32')") == "States.IntrinsicFailure"


def test_GIVEN_MathAdd_WHEN_evaluated_THEN_the_integers_are_added():
    assert evaluate("States.MathAdd($.a, -1)", {"a": 1111}) == 1110


def test_GIVEN_MathAdd_with_a_fraction_WHEN_evaluated_THEN_it_is_rounded_to_the_nearest_integer():
    assert evaluate("States.MathAdd(1.5, 1)") == 3


def test_GIVEN_MathAdd_with_a_string_WHEN_evaluated_THEN_it_fails_with_IntrinsicFailure():
    assert failure("States.MathAdd('1', 1)") == "States.IntrinsicFailure"


def test_GIVEN_nested_calls_WHEN_evaluated_THEN_inner_results_feed_outer_calls():
    expected = hashlib.md5(b"b/k").hexdigest()
    assert evaluate("States.Hash(States.Format('{}/{}', $.b, $.k), 'MD5')", {"b": "b", "k": "k"}) == expected


def test_GIVEN_ArrayPartition_WHEN_evaluated_THEN_chunks_of_the_size_are_returned():
    assert evaluate("States.ArrayPartition(States.Array(1, 2, 3, 4, 5), 2)") == [[1, 2], [3, 4], [5]]


def test_GIVEN_ArrayRange_WHEN_evaluated_THEN_the_end_is_included():
    assert evaluate("States.ArrayRange(1, 9, 2)") == [1, 3, 5, 7, 9]


def test_GIVEN_ArrayGetItem_ArrayLength_ArrayContains_ArrayUnique_WHEN_evaluated_THEN_they_inspect_the_array():
    data = {"a": [1, 2, 2, "x"]}
    assert [evaluate("States.ArrayGetItem($.a, 3)", data), evaluate("States.ArrayLength($.a)", data),
            evaluate("States.ArrayContains($.a, 'x')", data), evaluate("States.ArrayUnique($.a)", data)] == ["x", 4, True, [1, 2, "x"]]


def test_GIVEN_Base64Encode_then_Decode_WHEN_evaluated_THEN_the_text_round_trips():
    assert evaluate("States.Base64Decode(States.Base64Encode($.t))", {"t": "Data to encode"}) == "Data to encode"


def test_GIVEN_StringSplit_WHEN_evaluated_THEN_every_delimiter_character_splits():
    assert evaluate("States.StringSplit('This.is+a,test=string', '.+,=')") == ["This", "is", "a", "test", "string"]


def test_GIVEN_JsonMerge_WHEN_evaluated_THEN_the_second_object_wins_shallowly():
    assert evaluate("States.JsonMerge($.a, $.b, false)", {"a": {"x": 1, "y": {"p": 1}}, "b": {"y": {"q": 2}}}) == {"x": 1, "y": {"q": 2}}


def test_GIVEN_MathRandom_WHEN_evaluated_THEN_the_number_is_within_the_range():
    assert 10 <= evaluate("States.MathRandom(10, 20)") < 20


def test_GIVEN_a_path_argument_that_is_missing_WHEN_evaluated_THEN_it_fails_with_IntrinsicFailure():
    assert failure("States.Format('{}', $.nope)") == "States.IntrinsicFailure"
