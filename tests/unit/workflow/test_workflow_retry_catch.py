"""Retry and Catch as the specification says, with task errors named like Step Functions names them."""

from __future__ import annotations

import random

import pytest
from workflow_helpers import ECHO, Script, Sleeps, events, machine, registry

from autotagger.errors import InvalidImageFormatException, ServiceError, ThrottlingException
from autotagger.workflow.task_runner import TaskDeadlineExceeded, TaskRunner


def task(retry=None, catch=None, **extra):
    state = {"Type": "Task", "Resource": ECHO, "End": True, **extra}
    if retry is not None:
        state["Retry"] = retry
    if catch is not None:
        state["Catch"] = catch
    states = {"T": state}
    if catch:
        states.update({c["Next"]: {"Type": "Pass", "End": True} for c in catch})
    return states


def run(states, script, sleeper=None, rng=None, runner=None, data=None):
    sm = machine(states, sleeper=sleeper if sleeper is not None else Sleeps(), random=rng or random.Random(1), **({"runner": runner} if runner else {}))
    return sm.run(data if data is not None else {"in": 1}, registry(echo=script))


def test_GIVEN_a_ServiceError_WHEN_a_task_raises_it_THEN_the_error_is_Service_dot_Code_and_the_cause_its_message():
    execution = run(task(), Script(InvalidImageFormatException("Request has invalid image format")))
    assert (execution.error, execution.cause) == ("Rekognition.InvalidImageFormatException", "Request has invalid image format")


def test_GIVEN_any_other_exception_WHEN_a_task_raises_it_THEN_the_error_is_States_TaskFailed():
    execution = run(task(), Script(KeyError("boom")))
    assert execution.error == "States.TaskFailed" and "KeyError" in execution.cause


def test_GIVEN_a_retrier_WHEN_the_task_keeps_failing_THEN_it_is_retried_MaxAttempts_times_with_backoff():
    sleeps, script = Sleeps(), Script(ServiceError("x", service="S", code="Busy"))
    execution = run(task(retry=[{"ErrorEquals": ["S.Busy"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 3.0}]), script, sleeper=sleeps)
    assert (len(script.calls), sleeps, execution.error) == (4, [2, 6, 18], "S.Busy")


def test_GIVEN_MaxDelaySeconds_WHEN_backoff_grows_THEN_each_delay_is_capped():
    sleeps = Sleeps()
    run(task(retry=[{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 5, "BackoffRate": 4.0, "MaxDelaySeconds": 10}]),
        Script(ServiceError("x")), sleeper=sleeps)
    assert sleeps == [1, 4, 10, 10, 10]


def test_GIVEN_full_jitter_WHEN_retrying_THEN_each_delay_is_drawn_between_zero_and_the_backoff_delay():
    sleeps = Sleeps()
    run(task(retry=[{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 10, "MaxAttempts": 2, "JitterStrategy": "FULL"}]),
        Script(ServiceError("x")), sleeper=sleeps, rng=random.Random(3))
    expected_rng = random.Random(3)
    assert sleeps == [expected_rng.uniform(0, 10), expected_rng.uniform(0, 20)]


def test_GIVEN_MaxAttempts_zero_WHEN_the_error_matches_THEN_it_is_not_retried():
    script = Script(ServiceError("x"))
    run(task(retry=[{"ErrorEquals": ["States.ALL"], "MaxAttempts": 0}]), script)
    assert len(script.calls) == 1


def test_GIVEN_a_transient_failure_WHEN_the_retry_succeeds_THEN_the_execution_succeeds_with_the_result():
    execution = run(task(retry=[{"ErrorEquals": ["Rekognition.ThrottlingException"]}]), Script(ThrottlingException("slow"), {"ok": True}))
    assert (execution.status, execution.output) == ("SUCCEEDED", {"ok": True})


def test_GIVEN_two_retriers_WHEN_the_first_matching_is_exhausted_THEN_later_retriers_are_not_used():
    script = Script(ServiceError("x", service="S", code="A"))
    run(task(retry=[{"ErrorEquals": ["S.A"], "MaxAttempts": 1}, {"ErrorEquals": ["States.ALL"], "MaxAttempts": 5}]), script)
    assert len(script.calls) == 2


def test_GIVEN_retriers_for_different_errors_WHEN_errors_alternate_THEN_each_retrier_counts_its_own_attempts():
    script = Script(ServiceError("", code="A", service="S"), ServiceError("", code="B", service="S"), ServiceError("", code="A", service="S"), {"done": 1})
    execution = run(task(retry=[{"ErrorEquals": ["S.A"], "MaxAttempts": 2}, {"ErrorEquals": ["S.B"], "MaxAttempts": 1}]), script)
    assert (execution.status, len(script.calls)) == ("SUCCEEDED", 4)


def test_GIVEN_a_retry_WHEN_Parameters_read_RetryCount_THEN_it_counts_the_retries():
    script = Script(ServiceError("x"), ServiceError("x"), {})
    run(task(retry=[{"ErrorEquals": ["States.ALL"]}], Parameters={"n.$": "$$.State.RetryCount"}), script)
    assert [c["n"] for c in script.calls] == [0, 1, 2]


def test_GIVEN_a_catcher_WHEN_the_task_fails_THEN_the_error_object_is_placed_at_its_ResultPath():
    catch = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "Handle"}]
    execution = run(task(catch=catch), Script(InvalidImageFormatException("bad")))
    assert execution.output == {"in": 1, "failure": {"Error": "Rekognition.InvalidImageFormatException", "Cause": "bad"}}


def test_GIVEN_a_catcher_without_ResultPath_WHEN_it_catches_THEN_the_error_object_replaces_the_input():
    execution = run(task(catch=[{"ErrorEquals": ["States.ALL"], "Next": "Handle"}]), Script(ServiceError("c", service="S", code="E")))
    assert execution.output == {"Error": "S.E", "Cause": "c"}


def test_GIVEN_catchers_in_order_WHEN_two_match_THEN_the_first_is_used():
    catch = [{"ErrorEquals": ["S.E"], "Next": "First"}, {"ErrorEquals": ["States.ALL"], "Next": "Second"}]
    execution = run(task(catch=catch), Script(ServiceError("c", service="S", code="E")))
    assert [e["stateEnteredEventDetails"]["name"] for e in events(execution, "PassStateEntered")] == ["First"]


def test_GIVEN_a_retrier_and_a_catcher_WHEN_retries_are_exhausted_THEN_the_catcher_handles_the_error():
    script = Script(ThrottlingException("slow"))
    execution = run(task(retry=[{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}], catch=[{"ErrorEquals": ["States.ALL"], "Next": "Handle"}]), script)
    assert (execution.status, len(script.calls)) == ("SUCCEEDED", 3)


def test_GIVEN_States_TaskFailed_WHEN_a_service_error_occurs_THEN_it_is_caught():
    execution = run(task(catch=[{"ErrorEquals": ["States.TaskFailed"], "Next": "Handle"}]), Script(ServiceError("x")))
    assert execution.status == "SUCCEEDED"


class TimingOut(TaskRunner):
    """Reports every call as having missed its deadline, without waiting for it."""

    def __init__(self):
        super().__init__()
        self.timeouts = []

    def call(self, fn, arg, timeout):
        self.timeouts.append(timeout)
        raise TaskDeadlineExceeded("late")


def test_GIVEN_TimeoutSeconds_WHEN_the_task_misses_it_THEN_the_error_is_States_Timeout_with_a_TaskTimedOut_event():
    runner = TimingOut()
    execution = run(task(TimeoutSeconds=30), Script({}), runner=runner)
    assert (execution.error, runner.timeouts, len(events(execution, "TaskTimedOut"))) == ("States.Timeout", [30], 1)


def test_GIVEN_States_TaskFailed_WHEN_the_task_times_out_THEN_it_is_not_caught():
    execution = run(task(TimeoutSeconds=30, catch=[{"ErrorEquals": ["States.TaskFailed"], "Next": "Handle"}]), Script({}), runner=TimingOut())
    assert (execution.status, execution.error) == ("FAILED", "States.Timeout")


def test_GIVEN_States_ALL_WHEN_the_task_times_out_THEN_it_is_caught():
    execution = run(task(TimeoutSeconds=30, catch=[{"ErrorEquals": ["States.ALL"], "Next": "Handle"}]), Script({}), runner=TimingOut())
    assert execution.status == "SUCCEEDED"


def test_GIVEN_a_retrier_for_States_Timeout_WHEN_the_task_times_out_THEN_it_is_retried():
    runner = TimingOut()
    run(task(TimeoutSeconds=30, retry=[{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 2}]), Script({}), runner=runner)
    assert len(runner.timeouts) == 3


def test_GIVEN_HeartbeatSeconds_WHEN_the_task_misses_it_THEN_the_error_is_States_HeartbeatTimeout():
    runner = TimingOut()
    execution = run(task(TimeoutSeconds=30, HeartbeatSeconds=5), Script({}), runner=runner)
    assert (execution.error, runner.timeouts) == ("States.HeartbeatTimeout", [5])


def test_GIVEN_States_ALL_WHEN_a_States_Runtime_error_occurs_THEN_it_is_neither_retried_nor_caught():
    states = task(retry=[{"ErrorEquals": ["States.ALL"]}], catch=[{"ErrorEquals": ["States.ALL"], "Next": "Handle"}], InputPath="$.missing")
    script = Script({})
    execution = run(states, script)
    assert (execution.status, execution.error, script.calls) == ("FAILED", "States.Runtime", [])


def test_GIVEN_States_Runtime_named_explicitly_WHEN_it_occurs_THEN_it_is_still_not_caught():
    execution = run(task(catch=[{"ErrorEquals": ["States.Runtime"], "Next": "Handle"}], InputPath="$.missing"), Script({}))
    assert execution.error == "States.Runtime"


def test_GIVEN_an_intrinsic_failure_in_Parameters_WHEN_States_ALL_is_caught_THEN_it_is_caught():
    execution = run(task(catch=[{"ErrorEquals": ["States.ALL"], "Next": "Handle"}], Parameters={"x.$": "States.StringToJson('{')"}), Script({}))
    assert execution.status == "SUCCEEDED"


def test_GIVEN_a_result_that_is_not_JSON_WHEN_a_task_returns_it_THEN_the_error_is_States_TaskFailed():
    execution = run(task(), Script({"when": object()}))
    assert execution.error == "States.TaskFailed"


@pytest.mark.parametrize("error", ["States.Timeout", "Custom.Error"])
def test_GIVEN_a_Fail_state_in_a_Parallel_branch_WHEN_it_fails_THEN_the_Parallel_Catch_sees_its_error(error):
    states = {"P": {"Type": "Parallel", "End": True, "Branches": [{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": error, "Cause": "c"}}}],
                    "Catch": [{"ErrorEquals": [error], "Next": "Handle"}]}, "Handle": {"Type": "Pass", "End": True}}
    assert machine(states).run({}, registry()).output == {"Error": error, "Cause": "c"}


class Clockwork:
    """time.monotonic stand-in for the inline deadline check: each reading is `step` seconds later."""

    def __init__(self, step):
        self.now, self.step = 0.0, step

    def __call__(self):
        self.now += self.step
        return self.now


def test_GIVEN_an_inline_adapter_WHEN_it_answers_after_its_deadline_THEN_the_answer_is_discarded_as_States_Timeout(monkeypatch):
    from autotagger.workflow import states

    sm = machine(task(TimeoutSeconds=30))
    reg = registry().register(ECHO, lambda p: {"late": True}, inline=True)
    monkeypatch.setattr(states, "monotonic", Clockwork(step=31))
    execution = sm.run({}, reg)
    assert (execution.error, len(events(execution, "TaskTimedOut"))) == ("States.Timeout", 1)


def test_GIVEN_an_inline_adapter_WHEN_it_answers_in_time_THEN_it_ran_in_the_executions_thread():
    import threading

    threads = []
    sm = machine(task(TimeoutSeconds=30))
    execution = sm.run({}, registry().register(ECHO, lambda p: threads.append(threading.current_thread()) or {}, inline=True))
    assert (execution.status, threads) == ("SUCCEEDED", [threading.current_thread()])
