"""Load-time validation: what the engine refuses, and how it says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from workflow_helpers import ECHO, machine, registry

from autotagger.contracts import NORMALIZE_FUNCTION_NAME, definition_substitutions, function_arn
from autotagger.workflow import DefinitionError, StateMachine, UnknownResourceError

ASL = Path(__file__).resolve().parents[3] / "statemachine" / "image_tagging.asl.json"
SUBSTITUTIONS = definition_substitutions(max_labels=20, min_confidence=55, stream_name="images",
                                        dead_letter_queue_url="https://sqs.local/dlq",
                                        normalize_function=function_arn(NORMALIZE_FUNCTION_NAME))


def refused(states: dict, **kwargs) -> str:
    with pytest.raises(DefinitionError) as info:
        machine(states, **kwargs)
    return str(info.value)


def test_GIVEN_the_workflow_file_and_its_substitutions_WHEN_loaded_THEN_it_lists_its_seven_task_resources():
    sm = StateMachine.from_file(ASL, substitutions=SUBSTITUTIONS, name="image-tagging")
    assert sm.resources == {"arn:aws:states:::aws-sdk:rekognition:detectLabels", "arn:aws:states:::aws-sdk:kinesis:putRecord",
                            "arn:aws:states:::aws-sdk:rekognition:detectText",
                            "arn:aws:states:::aws-sdk:rekognition:detectModerationLabels",
                            "arn:aws:states:::sqs:sendMessage", "arn:aws:states:::lambda:invoke",
                            "arn:aws:states:::aws-sdk:s3:deleteObject"}


def test_GIVEN_substitutions_WHEN_loaded_THEN_they_are_applied_textually():
    sm = StateMachine.from_file(ASL, substitutions=SUBSTITUTIONS, name="image-tagging")
    assert sm.definition["States"]["PutRecord"]["Parameters"]["StreamName"] == "images"


def test_GIVEN_a_missing_substitution_WHEN_loaded_THEN_it_is_refused_naming_it():
    with pytest.raises(DefinitionError, match=r"\$\{DeadLetterQueueUrl\}"):
        StateMachine.from_file(ASL, substitutions={k: v for k, v in SUBSTITUTIONS.items() if k != "DeadLetterQueueUrl"})


def test_GIVEN_an_unknown_field_WHEN_loaded_THEN_the_message_names_state_and_field():
    message = refused({"A": {"Type": "Pass", "End": True, "Resutl": 1}})
    assert "state 'A'" in message and "Resutl" in message


@pytest.mark.parametrize("field, value", [("Assign", {"x": 1}), ("Arguments", {}), ("Output", {}), ("Credentials", {})])
def test_GIVEN_a_feature_the_engine_lacks_WHEN_loaded_THEN_it_is_refused_as_unsupported(field, value):
    message = refused({"A": {"Type": "Task", "Resource": ECHO, "End": True, field: value}})
    assert field in message and "not supported" in message


def test_GIVEN_JSONata_WHEN_loaded_THEN_it_is_refused():
    with pytest.raises(DefinitionError, match="JSONata"):
        StateMachine({"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Succeed"}}})


def test_GIVEN_a_map_mode_that_does_not_exist_WHEN_loaded_THEN_it_is_refused_naming_the_field():
    # Distributed Maps are run since issue 16 (tests/unit/workflow/test_workflow_distributed_map.py).
    message = refused({"M": {"Type": "Map", "End": True, "ItemProcessor": {
        "ProcessorConfig": {"Mode": "CLUSTERED"}, "StartAt": "S", "States": {"S": {"Type": "Succeed"}}}}})
    assert "ItemProcessor.ProcessorConfig.Mode" in message and "INLINE or DISTRIBUTED" in message


def test_GIVEN_a_distributed_map_without_an_execution_type_WHEN_loaded_THEN_it_is_refused():
    message = refused({"M": {"Type": "Map", "End": True, "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED"}, "StartAt": "S", "States": {"S": {"Type": "Succeed"}}}}})
    assert "ExecutionType" in message and "STANDARD or EXPRESS" in message


def test_GIVEN_a_callback_task_WHEN_loaded_THEN_it_is_refused():
    assert "waitForTaskToken" in refused({"A": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "End": True}})


def test_GIVEN_a_Next_to_a_missing_state_WHEN_loaded_THEN_it_is_refused():
    assert "'Nowhere'" in refused({"A": {"Type": "Pass", "Next": "Nowhere"}}).replace('"', "'")


def test_GIVEN_both_Next_and_End_WHEN_loaded_THEN_it_is_refused():
    assert "exactly one of Next or End" in refused({"A": {"Type": "Pass", "Next": "B", "End": True}, "B": {"Type": "Succeed"}})


def test_GIVEN_a_state_name_used_in_a_Parallel_branch_and_outside_WHEN_loaded_THEN_it_is_refused():
    branch = {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}
    message = refused({"A": {"Type": "Parallel", "Branches": [branch], "Next": "B"}, "B": {"Type": "Succeed"}})
    assert "'B' is used twice" in message


def test_GIVEN_two_Parallel_branches_with_the_same_state_name_WHEN_loaded_THEN_it_is_refused():
    branch = {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}
    assert "'B' is used twice" in refused({"A": {"Type": "Parallel", "Branches": [branch, branch], "End": True}})


def test_GIVEN_an_unreachable_state_WHEN_loaded_THEN_it_is_refused():
    assert "Orphan" in refused({"A": {"Type": "Succeed"}, "Orphan": {"Type": "Succeed"}})


def test_GIVEN_States_ALL_with_other_names_WHEN_loaded_THEN_it_is_refused():
    message = refused({"A": {"Type": "Task", "Resource": ECHO, "End": True, "Retry": [{"ErrorEquals": ["States.ALL", "X"]}]}})
    assert "States.ALL must appear alone" in message


def test_GIVEN_States_ALL_in_a_retrier_before_the_last_WHEN_loaded_THEN_it_is_refused():
    retry = [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}]
    assert "last" in refused({"A": {"Type": "Task", "Resource": ECHO, "End": True, "Retry": retry}})


def test_GIVEN_a_misspelt_States_error_WHEN_loaded_THEN_it_is_refused():
    assert "States.Timeot" in refused({"A": {"Type": "Task", "Resource": ECHO, "End": True, "Retry": [{"ErrorEquals": ["States.Timeot"]}]}})


def test_GIVEN_a_BackoffRate_below_one_WHEN_loaded_THEN_it_is_refused():
    assert "BackoffRate" in refused({"A": {"Type": "Task", "Resource": ECHO, "End": True, "Retry": [{"ErrorEquals": ["X"], "BackoffRate": 0.5}]}})


def test_GIVEN_an_unknown_JitterStrategy_WHEN_loaded_THEN_it_is_refused():
    assert "JitterStrategy" in refused({"A": {"Type": "Task", "Resource": ECHO, "End": True, "Retry": [{"ErrorEquals": ["X"], "JitterStrategy": "HALF"}]}})


def test_GIVEN_HeartbeatSeconds_not_below_TimeoutSeconds_WHEN_loaded_THEN_it_is_refused():
    assert "HeartbeatSeconds" in refused({"A": {"Type": "Task", "Resource": ECHO, "End": True, "TimeoutSeconds": 5, "HeartbeatSeconds": 5}})


def test_GIVEN_an_invalid_JSONPath_WHEN_loaded_THEN_it_is_refused_naming_the_field():
    message = refused({"A": {"Type": "Pass", "End": True, "Parameters": {"x.$": "$.a["}}})
    assert "Parameters.x.$" in message


def test_GIVEN_a_ResultPath_with_a_wildcard_WHEN_loaded_THEN_it_is_refused_as_not_a_reference_path():
    assert "reference path" in refused({"A": {"Type": "Pass", "End": True, "ResultPath": "$.a[*]"}})


def test_GIVEN_an_unknown_intrinsic_WHEN_loaded_THEN_it_is_refused():
    assert "States.Lower" in refused({"A": {"Type": "Pass", "End": True, "Parameters": {"x.$": "States.Lower($.a)"}}})


def test_GIVEN_an_intrinsic_with_a_wrong_argument_count_WHEN_loaded_THEN_it_is_refused():
    assert "takes 2" in refused({"A": {"Type": "Pass", "End": True, "Parameters": {"x.$": "States.Hash($.a)"}}})


def test_GIVEN_intrinsics_nested_deeper_than_ten_WHEN_loaded_THEN_it_is_refused():
    text = "States.Array(" * 11 + "1" + ")" * 11
    assert "10 deep" in refused({"A": {"Type": "Pass", "End": True, "Parameters": {"x.$": text}}})


def test_GIVEN_a_choice_rule_with_two_operators_WHEN_loaded_THEN_it_is_refused():
    rule = {"Variable": "$.a", "StringEquals": "x", "IsPresent": True, "Next": "B"}
    assert "exactly one" in refused({"C": {"Type": "Choice", "Choices": [rule]}, "B": {"Type": "Succeed"}})


def test_GIVEN_a_Numeric_operator_with_a_string_operand_WHEN_loaded_THEN_it_is_refused():
    rule = {"Variable": "$.a", "NumericEquals": "1", "Next": "B"}
    assert "must be a number" in refused({"C": {"Type": "Choice", "Choices": [rule]}, "B": {"Type": "Succeed"}})


def test_GIVEN_a_Wait_with_two_durations_WHEN_loaded_THEN_it_is_refused():
    assert "exactly one" in refused({"W": {"Type": "Wait", "Seconds": 1, "SecondsPath": "$.s", "End": True}})


def test_GIVEN_a_task_resource_without_adapter_WHEN_run_THEN_it_is_refused_before_starting():
    sm = machine({"A": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject", "End": True}})
    with pytest.raises(UnknownResourceError, match="aws-sdk:s3:getObject"):
        sm.run({}, registry())


def test_GIVEN_a_definition_that_is_not_JSON_WHEN_loaded_THEN_it_is_refused():
    with pytest.raises(DefinitionError, match="not valid JSON"):
        StateMachine("{", name="x")


def test_GIVEN_the_workflow_file_WHEN_loaded_as_text_twice_THEN_the_same_definition_is_compiled():
    text = ASL.read_text()
    first = StateMachine(text, substitutions=SUBSTITUTIONS)
    second = StateMachine(json.loads(text), substitutions=SUBSTITUTIONS)
    assert first.definition == second.definition
