"""Wait, Succeed, Fail, Parallel and Map, and the execution's own TimeoutSeconds."""

from __future__ import annotations

import threading

from workflow_helpers import ECHO, FixedClock, Script, Sleeps, events, machine, registry

from autotagger.workflow import StateMachine


def test_GIVEN_Wait_Seconds_WHEN_run_THEN_the_sleeper_is_asked_for_those_seconds():
    sleeps = Sleeps()
    machine({"W": {"Type": "Wait", "Seconds": 90, "End": True}}, sleeper=sleeps).run({}, registry())
    assert sleeps == [90]


def test_GIVEN_Wait_SecondsPath_WHEN_run_THEN_the_seconds_come_from_the_input():
    sleeps = Sleeps()
    machine({"W": {"Type": "Wait", "SecondsPath": "$.s", "End": True}}, sleeper=sleeps).run({"s": 4}, registry())
    assert sleeps == [4]


def test_GIVEN_Wait_Timestamp_in_the_future_WHEN_run_THEN_it_sleeps_until_then():
    sleeps = Sleeps()
    machine({"W": {"Type": "Wait", "Timestamp": "2026-11-25T12:01:00.123Z", "End": True}}, sleeper=sleeps, clock=FixedClock()).run({}, registry())
    assert sleeps == [60.0]


def test_GIVEN_Wait_TimestampPath_in_the_past_WHEN_run_THEN_it_does_not_sleep():
    sleeps = Sleeps()
    machine({"W": {"Type": "Wait", "TimestampPath": "$.t", "End": True}}, sleeper=sleeps, clock=FixedClock()).run({"t": "2020-01-01T00:00:00Z"}, registry())
    assert sleeps == []


def test_GIVEN_Wait_SecondsPath_to_a_string_WHEN_run_THEN_the_execution_fails_with_States_Runtime():
    assert machine({"W": {"Type": "Wait", "SecondsPath": "$.s", "End": True}}).run({"s": "4"}, registry()).error == "States.Runtime"


def test_GIVEN_Succeed_with_OutputPath_WHEN_run_THEN_the_execution_output_is_that_part():
    execution = machine({"S": {"Type": "Succeed", "OutputPath": "$.a"}}).run({"a": {"b": 1}}, registry())
    assert (execution.status, execution.output) == ("SUCCEEDED", {"b": 1})


def test_GIVEN_Fail_with_Error_and_Cause_WHEN_run_THEN_the_execution_fails_with_them():
    execution = machine({"F": {"Type": "Fail", "Error": "My.Error", "Cause": "because"}}).run({}, registry())
    assert (execution.status, execution.error, execution.cause) == ("FAILED", "My.Error", "because")


def test_GIVEN_Fail_with_ErrorPath_and_CausePath_WHEN_run_THEN_they_are_read_from_the_input():
    execution = machine({"F": {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "States.Format('code {}', $.c)"}}).run({"e": "E", "c": 7}, registry())
    assert (execution.error, execution.cause) == ("E", "code 7")


def test_GIVEN_Fail_with_an_ErrorPath_to_a_number_WHEN_run_THEN_the_execution_fails_with_States_Runtime():
    assert machine({"F": {"Type": "Fail", "ErrorPath": "$.e"}}).run({"e": 1}, registry()).error == "States.Runtime"


def branch(value):
    return {"StartAt": f"B{value}", "States": {f"B{value}": {"Type": "Pass", "Result": value, "End": True}}}


def test_GIVEN_Parallel_WHEN_its_branches_succeed_THEN_the_output_is_their_outputs_in_branch_order():
    execution = machine({"P": {"Type": "Parallel", "End": True, "Branches": [branch("a"), branch("b"), branch("c")]}}).run({}, registry())
    assert execution.output == ["a", "b", "c"]


def test_GIVEN_Parallel_WHEN_its_branches_run_THEN_they_run_at_the_same_time():
    barrier = threading.Barrier(2, timeout=5)
    states = {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": f"T{i}", "States": {f"T{i}": {"Type": "Task", "Resource": ECHO, "End": True}}} for i in range(2)]}}
    execution = machine(states).run({}, registry(echo=lambda p: barrier.wait() is not None and {}))
    assert execution.status == "SUCCEEDED"


def test_GIVEN_Parallel_WHEN_a_branch_fails_THEN_the_state_fails_with_that_branch_error():
    failing = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Branch.Broke", "Cause": "x"}}}
    execution = machine({"P": {"Type": "Parallel", "End": True, "Branches": [branch(1), failing]}}).run({}, registry())
    assert (execution.error, "ParallelStateFailed" in [e["type"] for e in execution.history]) == ("Branch.Broke", True)


def test_GIVEN_Parallel_with_ResultSelector_and_ResultPath_WHEN_run_THEN_they_apply_to_the_branch_outputs():
    state = {"Type": "Parallel", "End": True, "Branches": [branch(1), branch(2)], "ResultSelector": {"first.$": "$[0]"}, "ResultPath": "$.r"}
    assert machine({"P": state}).run({"in": 0}, registry()).output == {"in": 0, "r": {"first": 1}}


def iterate(**extra):
    return {"M": {"Type": "Map", "End": True, "ItemsPath": "$.items", **extra,
                  "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": ECHO, "End": True}}}}}


def test_GIVEN_Map_WHEN_run_THEN_each_item_is_processed_and_results_keep_item_order():
    execution = machine(iterate()).run({"items": [1, 2, 3]}, registry(echo=lambda p: p * 10))
    assert execution.output == [10, 20, 30]


def test_GIVEN_Map_with_ItemSelector_WHEN_run_THEN_iterations_get_the_index_value_and_input_fields():
    seen = []
    sm = machine(iterate(ItemSelector={"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value", "tag.$": "$.tag"}, MaxConcurrency=1))
    sm.run({"items": ["a", "b"], "tag": "t"}, registry(echo=lambda p: seen.append(p) or p))
    assert seen == [{"i": 0, "v": "a", "tag": "t"}, {"i": 1, "v": "b", "tag": "t"}]


def test_GIVEN_Map_with_the_legacy_Iterator_and_Parameters_WHEN_run_THEN_it_behaves_like_ItemProcessor_and_ItemSelector():
    state = {"Type": "Map", "End": True, "ItemsPath": "$.items", "Parameters": {"v.$": "$$.Map.Item.Value"},
             "Iterator": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": ECHO, "End": True}}}}
    assert machine({"M": state}).run({"items": [5]}, registry()).output == [{"v": 5}]


def test_GIVEN_Map_with_MaxConcurrency_one_WHEN_run_THEN_no_two_iterations_overlap():
    active, peak, lock = [0], [0], threading.Lock()

    def work(p):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        with lock:
            active[0] -= 1
        return p

    machine(iterate(MaxConcurrency=1)).run({"items": list(range(8))}, registry(echo=work))
    assert peak[0] == 1


def test_GIVEN_Map_WHEN_an_iteration_fails_THEN_the_state_fails_with_its_error_and_records_MapIterationFailed():
    execution = machine(iterate(MaxConcurrency=1)).run({"items": [1, 2]}, registry(echo=Script({}, KeyError("x"))))
    assert (execution.error, len(events(execution, "MapIterationFailed"))) == ("States.TaskFailed", 1)


def test_GIVEN_Map_ItemsPath_to_an_object_WHEN_run_THEN_the_execution_fails_with_States_Runtime():
    assert machine(iterate()).run({"items": {"a": 1}}, registry()).error == "States.Runtime"


def test_GIVEN_an_execution_TimeoutSeconds_WHEN_a_wait_outlasts_it_THEN_the_execution_is_TIMED_OUT():
    sleeps = Sleeps()
    sm = StateMachine({"TimeoutSeconds": 5, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}}, sleeper=sleeps)
    execution = sm.run({}, registry())
    assert (execution.status, execution.error, execution.history[-1]["type"], sleeps[0] <= 5) == ("TIMED_OUT", "States.Timeout", "ExecutionTimedOut", True)


def test_GIVEN_an_execution_timeout_WHEN_a_catcher_for_States_ALL_exists_THEN_it_does_not_catch_it():
    sm = StateMachine({"TimeoutSeconds": 1, "StartAt": "P", "States": {
        "P": {"Type": "Parallel", "End": True, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H"}],
              "Branches": [{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}}]},
        "H": {"Type": "Succeed"}}}, sleeper=Sleeps())
    assert sm.run({}, registry()).status == "TIMED_OUT"


def test_GIVEN_Parallel_WHEN_one_branch_fails_THEN_the_other_stops_at_its_next_transition(monkeypatch):
    from autotagger.workflow import interpreter

    started, cancelled = threading.Event(), threading.Event()
    original_cancel = interpreter.Branch.cancel

    def cancel(self):  # the slow branch's task returns only once the engine has cancelled the branches
        original_cancel(self)
        cancelled.set()

    monkeypatch.setattr(interpreter.Branch, "cancel", cancel)
    slow = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": ECHO, "Next": "After"}, "After": {"Type": "Pass", "End": True}}}
    failing = {"StartAt": "Gate", "States": {"Gate": {"Type": "Task", "Resource": "arn:aws:states:::test:gate", "Next": "F"},
                                             "F": {"Type": "Fail", "Error": "Broke"}}}
    def hold(parameters):
        started.set()
        cancelled.wait(5)
        return {}

    def gate(parameters):
        started.wait(5)
        return {}

    execution = machine({"P": {"Type": "Parallel", "End": True, "Branches": [slow, failing]}}).run({}, registry(echo=hold, gate=gate))
    entered = [e["stateEnteredEventDetails"]["name"] for e in execution.history if "stateEnteredEventDetails" in e]
    assert (execution.error, cancelled.is_set(), "After" in entered) == ("Broke", True, False)
