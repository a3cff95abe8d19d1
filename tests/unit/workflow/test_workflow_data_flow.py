"""InputPath, Parameters, ResultSelector, ResultPath, OutputPath and the context object."""

from __future__ import annotations

import json

from workflow_helpers import ECHO, FixedClock, machine, registry


def run(states: dict, input_value, **adapters):
    return machine(states).run(input_value, registry(**adapters))


def test_GIVEN_InputPath_WHEN_a_task_runs_THEN_it_receives_only_that_part():
    seen = []
    states = {"T": {"Type": "Task", "Resource": ECHO, "InputPath": "$.order", "ResultPath": None, "End": True}}
    run(states, {"order": {"id": 7}, "other": 1}, echo=lambda p: seen.append(p) or {})
    assert seen == [{"id": 7}]


def test_GIVEN_InputPath_null_WHEN_a_task_runs_THEN_it_receives_an_empty_object():
    seen = []
    run({"T": {"Type": "Task", "Resource": ECHO, "InputPath": None, "End": True}}, {"a": 1}, echo=lambda p: seen.append(p) or {})
    assert seen == [{}]


def test_GIVEN_Parameters_with_paths_and_constants_WHEN_a_task_runs_THEN_it_receives_the_built_object():
    seen = []
    states = {"T": {"Type": "Task", "Resource": ECHO, "End": True,
                    "Parameters": {"fixed": "x", "nested": {"id.$": "$.id"}, "list": [1, {"v.$": "$.id"}]}}}
    run(states, {"id": 3}, echo=lambda p: seen.append(p) or {})
    assert seen == [{"fixed": "x", "nested": {"id": 3}, "list": [1, {"v": 3}]}]


def test_GIVEN_a_Parameters_path_that_is_missing_WHEN_run_THEN_the_execution_fails_with_States_Runtime():
    execution = run({"P": {"Type": "Pass", "End": True, "Parameters": {"x.$": "$.missing"}}}, {"a": 1})
    assert (execution.status, execution.error) == ("FAILED", "States.Runtime")
    assert "'$.missing'" in execution.cause and "'x.$'" in execution.cause


def test_GIVEN_ResultSelector_WHEN_a_task_answers_THEN_only_the_selected_fields_are_kept():
    states = {"T": {"Type": "Task", "Resource": ECHO, "End": True, "ResultSelector": {"n.$": "$.Count"}}}
    execution = run(states, {}, echo=lambda p: {"Count": 2, "Noise": "x"})
    assert execution.output == {"n": 2}


def test_GIVEN_ResultPath_to_a_field_WHEN_a_task_answers_THEN_the_result_is_added_to_the_input():
    execution = run({"T": {"Type": "Task", "Resource": ECHO, "ResultPath": "$.r.x", "End": True}}, {"a": 1}, echo=lambda p: 5)
    assert execution.output == {"a": 1, "r": {"x": 5}}


def test_GIVEN_ResultPath_null_WHEN_a_task_answers_THEN_the_input_passes_through():
    execution = run({"T": {"Type": "Task", "Resource": ECHO, "ResultPath": None, "End": True}}, {"a": 1}, echo=lambda p: 5)
    assert execution.output == {"a": 1}


def test_GIVEN_no_ResultPath_WHEN_a_task_answers_THEN_the_result_replaces_the_input():
    execution = run({"T": {"Type": "Task", "Resource": ECHO, "End": True}}, {"a": 1}, echo=lambda p: {"b": 2})
    assert execution.output == {"b": 2}


def test_GIVEN_a_ResultPath_through_a_string_WHEN_run_THEN_the_execution_fails_with_States_Runtime():
    execution = run({"P": {"Type": "Pass", "Result": 1, "ResultPath": "$.a.b", "End": True}}, {"a": "text"})
    assert execution.error == "States.Runtime"


def test_GIVEN_OutputPath_WHEN_a_state_ends_THEN_only_that_part_is_passed_on():
    execution = run({"P": {"Type": "Pass", "Result": {"keep": 1, "drop": 2}, "ResultPath": "$.r", "OutputPath": "$.r.keep", "End": True}}, {})
    assert execution.output == 1


def test_GIVEN_a_Pass_with_Result_WHEN_run_THEN_the_result_is_placed_at_ResultPath():
    execution = run({"P": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.res", "End": True}}, {"in": 0})
    assert execution.output == {"in": 0, "res": {"x": 1}}


def test_GIVEN_a_ResultPath_write_WHEN_run_THEN_the_execution_input_is_not_mutated():
    original = {"a": {"b": 1}}
    execution = run({"P": {"Type": "Pass", "Result": 2, "ResultPath": "$.a.c", "End": True}}, original)
    assert original == {"a": {"b": 1}} and execution.input == {"a": {"b": 1}}


def test_GIVEN_an_adapter_that_mutates_its_parameters_WHEN_run_THEN_the_execution_data_is_unchanged():
    def mutate(parameters):
        parameters["nested"]["x"] = "changed"
        return {}

    states = {"T": {"Type": "Task", "Resource": ECHO, "Parameters": {"nested.$": "$.n"}, "ResultPath": None, "End": True}}
    execution = run(states, {"n": {"x": "original"}}, echo=mutate)
    assert execution.output == {"n": {"x": "original"}}


def test_GIVEN_an_indefinite_path_WHEN_used_in_Parameters_THEN_it_yields_the_list_of_matches():
    execution = run({"P": {"Type": "Pass", "Parameters": {"names.$": "$.items[*].name"}, "End": True}}, {"items": [{"name": "a"}, {"name": "b"}]})
    assert execution.output == {"names": ["a", "b"]}


def test_GIVEN_a_filter_path_WHEN_used_in_Parameters_THEN_only_matching_items_are_kept():
    execution = run({"P": {"Type": "Pass", "Parameters": {"big.$": "$.items[?(@.n > 1)].n"}, "End": True}}, {"items": [{"n": 1}, {"n": 3}]})
    assert execution.output == {"big": [3]}


def test_GIVEN_context_paths_WHEN_a_state_reads_them_THEN_execution_state_machine_and_state_are_given():
    clock = FixedClock()
    sm = machine({"Here": {"Type": "Pass", "End": True, "Parameters": {
        "id.$": "$$.Execution.Id", "name.$": "$$.Execution.Name", "input.$": "$$.Execution.Input", "start.$": "$$.Execution.StartTime",
        "sm.$": "$$.StateMachine.Id", "smName.$": "$$.StateMachine.Name", "state.$": "$$.State.Name",
        "entered.$": "$$.State.EnteredTime", "retries.$": "$$.State.RetryCount"}}}, clock=clock)
    execution = sm.run({"k": 1}, registry(), execution_name="run-1")
    assert execution.output == {
        "id": "arn:aws:states:local:000000000000:execution:test-machine:run-1", "name": "run-1", "input": {"k": 1},
        "start": "2026-11-25T12:00:00.123Z", "sm": "arn:aws:states:local:000000000000:stateMachine:test-machine",
        "smName": "test-machine", "state": "Here", "entered": "2026-11-25T12:00:00.123Z", "retries": 0}


def test_GIVEN_input_as_JSON_text_WHEN_run_THEN_it_is_parsed_like_StartExecution_input():
    execution = run({"S": {"Type": "Succeed"}}, json.dumps({"a": [1, 2]}))
    assert execution.output == {"a": [1, 2]}


def test_GIVEN_an_output_over_256_KiB_WHEN_a_task_answers_THEN_the_execution_fails_with_DataLimitExceeded_even_with_Catch():
    states = {"T": {"Type": "Task", "Resource": ECHO, "End": True, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]},
              "Caught": {"Type": "Succeed"}}
    execution = run(states, {}, echo=lambda p: {"blob": "x" * 300_000})
    assert (execution.status, execution.error) == ("FAILED", "States.DataLimitExceeded")
