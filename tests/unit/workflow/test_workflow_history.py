"""The execution record: status, ARN and a history shaped like GetExecutionHistory."""

from __future__ import annotations

import json

import pytest
from workflow_helpers import ECHO, Script, machine, registry, types

from autotagger.errors import InvalidImageFormatException

TASK = {"T": {"Type": "Task", "Resource": ECHO, "TimeoutSeconds": 10, "End": True}}


def test_GIVEN_a_succeeding_task_WHEN_run_THEN_the_history_has_the_Step_Functions_event_sequence():
    execution = machine(TASK).run({"a": 1}, registry())
    assert types(execution) == ["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded",
                                "TaskStateExited", "ExecutionSucceeded"]


def test_GIVEN_a_failing_task_WHEN_run_THEN_the_history_ends_with_TaskFailed_then_ExecutionFailed():
    execution = machine(TASK).run({}, registry(echo=Script(InvalidImageFormatException("bad"))))
    assert types(execution)[-2:] == ["TaskFailed", "ExecutionFailed"]


def test_GIVEN_a_failing_task_WHEN_run_THEN_the_failure_events_carry_error_and_cause():
    execution = machine(TASK).run({}, registry(echo=Script(InvalidImageFormatException("bad"))))
    failed, ended = execution.history[-2], execution.history[-1]
    assert failed["taskFailedEventDetails"] == {"resourceType": "test", "resource": "echo", "error": "Rekognition.InvalidImageFormatException", "cause": "bad"}
    assert ended["executionFailedEventDetails"] == {"error": "Rekognition.InvalidImageFormatException", "cause": "bad"}


def test_GIVEN_a_task_WHEN_scheduled_THEN_the_event_has_resource_parameters_and_timeout():
    execution = machine({"T": {**TASK["T"], "Parameters": {"x.$": "$.a"}}}).run({"a": 1}, registry())
    assert execution.history[2]["taskScheduledEventDetails"] == {"resourceType": "test", "resource": "echo", "region": "local",
                                                                  "parameters": '{"x":1}', "timeoutInSeconds": 10}


def test_GIVEN_an_aws_sdk_resource_WHEN_scheduled_THEN_resourceType_and_resource_are_named_like_Step_Functions():
    resource = "arn:aws:states:::aws-sdk:rekognition:detectLabels"
    sm = machine({"T": {"Type": "Task", "Resource": resource, "End": True}})
    execution = sm.run({}, registry().register(resource, lambda p: {}))
    assert {k: execution.history[2]["taskScheduledEventDetails"][k] for k in ("resourceType", "resource")} == {"resourceType": "aws-sdk:rekognition", "resource": "detectLabels"}


def test_GIVEN_any_execution_WHEN_run_THEN_event_ids_count_up_and_each_points_to_the_previous():
    execution = machine(TASK).run({}, registry())
    assert [(e["id"], e["previousEventId"]) for e in execution.history] == [(i, i - 1) for i in range(1, len(execution.history) + 1)]


def test_GIVEN_any_execution_WHEN_run_THEN_every_event_has_a_UTC_timestamp_in_order():
    execution = machine(TASK).run({}, registry())
    stamps = [e["timestamp"] for e in execution.history]
    assert all(s.utcoffset().total_seconds() == 0 for s in stamps) and stamps == sorted(stamps)


def test_GIVEN_state_events_WHEN_recorded_THEN_inputs_and_outputs_are_JSON_text_under_the_shared_detail_keys():
    execution = machine(TASK).run({"a": 1}, registry(echo=lambda p: {"b": 2}))
    entered, exited = execution.history[1], execution.history[5]
    assert (entered["stateEnteredEventDetails"]["name"], json.loads(entered["stateEnteredEventDetails"]["input"])) == ("T", {"a": 1})
    assert json.loads(exited["stateExitedEventDetails"]["output"]) == {"b": 2}


def test_GIVEN_an_execution_name_WHEN_run_THEN_the_arn_is_the_local_execution_arn():
    execution = machine(TASK).run({}, registry(), execution_name="e-1")
    assert execution.arn == "arn:aws:states:local:000000000000:execution:test-machine:e-1"


def test_GIVEN_an_execution_name_with_a_slash_WHEN_run_THEN_it_is_refused():
    with pytest.raises(ValueError, match="invalid execution name"):
        machine(TASK).run({}, registry(), execution_name="a/b")


def test_GIVEN_a_finished_execution_WHEN_inspected_THEN_start_and_stop_dates_are_set():
    execution = machine(TASK).run({}, registry())
    assert execution.start_date <= execution.stop_date


class Recorder:
    def __init__(self):
        self.seen = []

    def on_event(self, execution, event):
        self.seen.append((execution.arn, event["type"]))


def test_GIVEN_a_listener_WHEN_run_THEN_it_receives_every_event_in_order():
    recorder = Recorder()
    execution = machine(TASK).run({}, registry(), listener=recorder)
    assert recorder.seen == [(execution.arn, t) for t in types(execution)]


def test_GIVEN_a_listener_that_fails_on_ExecutionStarted_WHEN_run_THEN_no_task_runs_and_the_error_propagates():
    class Broken:
        def on_event(self, execution, event):
            raise OSError("disk full")

    calls = []
    with pytest.raises(OSError):
        machine(TASK).run({}, registry(echo=lambda p: calls.append(p) or {}), listener=Broken())
    assert calls == []


def test_GIVEN_a_Parallel_state_WHEN_run_THEN_branch_events_point_to_events_of_their_own_branch():
    branches = [{"StartAt": f"B{i}", "States": {f"B{i}": {"Type": "Pass", "End": True}}} for i in range(2)]
    execution = machine({"P": {"Type": "Parallel", "Branches": branches, "End": True}}).run({}, registry())
    started = next(e["id"] for e in execution.history if e["type"] == "ParallelStateStarted")
    entered = [e for e in execution.history if e["type"] == "PassStateEntered"]
    assert [e["previousEventId"] for e in entered] == [started, started]
