"""Choice rules: operators, type mismatches, missing variables, boolean combinations."""

from __future__ import annotations

import pytest
from workflow_helpers import machine, registry


def route(rule: dict, data, default: bool = True):
    states = {"C": {"Type": "Choice", "Choices": [{**rule, "Next": "Yes"}]}, "Yes": {"Type": "Pass", "Result": "yes", "End": True}}
    if default:
        states["C"]["Default"] = "No"
        states["No"] = {"Type": "Pass", "Result": "no", "End": True}
    execution = machine(states).run(data, registry())
    return execution.output if execution.status == "SUCCEEDED" else execution.error


@pytest.mark.parametrize("operator, operand, value, expected", [
    ("StringEquals", "a", "a", "yes"), ("StringEquals", "a", "b", "no"),
    ("StringLessThan", "b", "a", "yes"), ("StringGreaterThanEquals", "b", "b", "yes"),
    ("NumericEquals", 1, 1.0, "yes"), ("NumericLessThan", 5, 4.5, "yes"), ("NumericGreaterThan", 5, 5, "no"),
    ("NumericLessThanEquals", 0, 0, "yes"), ("BooleanEquals", True, True, "yes"), ("BooleanEquals", False, True, "no"),
    ("TimestampLessThan", "2026-01-01T00:00:00Z", "2025-12-31T23:59:59Z", "yes"),
    ("TimestampEquals", "2026-01-01T01:00:00+01:00", "2026-01-01T00:00:00Z", "yes"),
])
def test_GIVEN_a_comparison_WHEN_evaluated_THEN_it_compares_like_the_specification(operator, operand, value, expected):
    assert route({"Variable": "$.v", operator: operand}, {"v": value}) == expected


@pytest.mark.parametrize("operator, operand, value", [
    ("StringEquals", "1", 1), ("NumericEquals", 1, "1"), ("NumericEquals", 1, True), ("BooleanEquals", True, 1),
    ("TimestampEquals", "2026-01-01T00:00:00Z", "yesterday"),
])
def test_GIVEN_a_value_of_another_type_WHEN_compared_THEN_the_rule_is_false(operator, operand, value):
    assert route({"Variable": "$.v", operator: operand}, {"v": value}) == "no"


def test_GIVEN_a_Path_operator_WHEN_evaluated_THEN_it_compares_with_the_value_at_that_path():
    assert route({"Variable": "$.a", "NumericGreaterThanPath": "$.b"}, {"a": 3, "b": 2}) == "yes"


def test_GIVEN_a_missing_variable_WHEN_compared_THEN_the_execution_fails_with_States_Runtime():
    assert route({"Variable": "$.nope", "StringEquals": "x"}, {}) == "States.Runtime"


@pytest.mark.parametrize("present, data, expected", [(True, {"v": None}, "yes"), (True, {}, "no"), (False, {}, "yes")])
def test_GIVEN_IsPresent_WHEN_evaluated_THEN_it_tests_only_whether_the_path_exists(present, data, expected):
    assert route({"Variable": "$.v", "IsPresent": present}, data) == expected


@pytest.mark.parametrize("operator, value, expected", [
    ("IsNull", None, "yes"), ("IsNumeric", 1.5, "yes"), ("IsNumeric", True, "no"), ("IsString", "s", "yes"),
    ("IsBoolean", False, "yes"), ("IsTimestamp", "2026-11-25T12:00:00.5Z", "yes"), ("IsTimestamp", "2026-11-25 12:00:00", "no"),
])
def test_GIVEN_a_type_test_WHEN_evaluated_THEN_it_tests_the_JSON_type(operator, value, expected):
    assert route({"Variable": "$.v", operator: True}, {"v": value}) == expected


def test_GIVEN_And_guarded_by_IsPresent_WHEN_the_field_is_missing_THEN_the_later_test_is_not_evaluated():
    rule = {"And": [{"Variable": "$.v", "IsPresent": True}, {"Variable": "$.v", "StringEquals": "x"}]}
    assert route(rule, {}) == "no"


def test_GIVEN_Not_WHEN_evaluated_THEN_it_negates():
    assert route({"Not": {"Variable": "$.v", "StringEquals": "x"}}, {"v": "y"}) == "yes"


@pytest.mark.parametrize("pattern, value, expected", [
    ("*.jpg", "dir/a.jpg", "yes"), ("*.jpg", "a.JPG", "no"), ("log-*.txt", "log-2026.txt", "yes"),
    ("a\\*b", "a*b", "yes"), ("a\\*b", "axb", "no"), ("*", "", "yes"),
])
def test_GIVEN_StringMatches_WHEN_evaluated_THEN_only_star_is_a_wildcard(pattern, value, expected):
    assert route({"Variable": "$.v", "StringMatches": pattern}, {"v": value}) == expected


def test_GIVEN_an_Or_of_StringMatches_WHEN_one_pattern_matches_THEN_the_rule_is_true():
    rule = {"Or": [{"Variable": "$.k", "StringMatches": p} for p in ("*.png", "*.jpg", "*.jpeg")]}
    assert route(rule, {"k": "x.jpg"}) == "yes"


def test_GIVEN_an_Or_of_StringMatches_on_a_number_WHEN_evaluated_THEN_the_rule_is_false():
    rule = {"Or": [{"Variable": "$.k", "StringMatches": p} for p in ("*.png", "*.jpg")]}
    assert route(rule, {"k": 5}) == "no"


def test_GIVEN_no_rule_matches_and_no_Default_WHEN_run_THEN_the_execution_fails_with_NoChoiceMatched():
    assert route({"Variable": "$.v", "StringEquals": "x"}, {"v": "y"}, default=False) == "States.NoChoiceMatched"


def test_GIVEN_a_context_variable_WHEN_compared_THEN_the_context_object_is_read():
    assert route({"Variable": "$$.State.Name", "StringEquals": "C"}, {}) == "yes"


def test_GIVEN_rules_in_order_WHEN_two_match_THEN_the_first_wins():
    states = {"C": {"Type": "Choice", "Choices": [{"Variable": "$.v", "IsPresent": True, "Next": "First"},
                                                  {"Variable": "$.v", "IsString": True, "Next": "Second"}]},
              "First": {"Type": "Pass", "Result": 1, "End": True}, "Second": {"Type": "Pass", "Result": 2, "End": True}}
    assert machine(states).run({"v": "s"}, registry()).output == 1
