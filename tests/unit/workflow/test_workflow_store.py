"""ExecutionStore: durable start, queries, crash recovery."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from workflow_helpers import ECHO, machine, registry

from autotagger.workflow.store import ExecutionStore

TASK = {"T": {"Type": "Task", "Resource": ECHO, "End": True}}


@pytest.fixture
def store(tmp_path):
    s = ExecutionStore(tmp_path / "executions.db")
    yield s
    s.close()


def test_GIVEN_a_store_listener_WHEN_a_task_runs_THEN_the_RUNNING_execution_with_its_input_is_already_on_disk(tmp_path, store):
    seen = []

    def look(parameters):
        with sqlite3.connect(store.path) as other:
            seen.append(other.execute("SELECT status, input FROM executions").fetchall())
        return {}

    machine(TASK).run({"k": 1}, registry(echo=look), listener=store)
    assert seen == [[("RUNNING", '{"k":1}')]]


def test_GIVEN_a_finished_execution_WHEN_read_back_THEN_summary_and_full_history_are_returned(store):
    execution = machine(TASK).run({"k": 1}, registry(echo=lambda p: {"ok": 1}), listener=store)
    stored = store.get(execution.arn)
    assert (stored["status"], stored["output"], [e["type"] for e in stored["history"]]) == ("SUCCEEDED", '{"ok":1}', [e["type"] for e in execution.history])


def test_GIVEN_a_failed_execution_WHEN_listed_by_status_THEN_it_is_listed_with_error_and_cause(store):
    execution = machine({"F": {"Type": "Fail", "Error": "E", "Cause": "C"}}).run({}, registry(), listener=store)
    machine(TASK).run({}, registry(), listener=store)
    assert [(s["executionArn"], s["error"], s["cause"]) for s in store.list(status="FAILED")] == [(execution.arn, "E", "C")]


def test_GIVEN_several_executions_WHEN_listed_with_a_limit_THEN_the_newest_come_first(store):
    arns = [machine(TASK).run({}, registry(), execution_name=f"e{i}", listener=store).arn for i in range(3)]
    assert [s["executionArn"] for s in store.list(limit=2)] == arns[::-1][:2]


def test_GIVEN_an_execution_interrupted_by_a_crash_WHEN_the_store_is_reopened_THEN_running_lists_it_with_its_input(tmp_path):
    arn = crash_during_task(tmp_path / "executions.db")
    assert ExecutionStore(tmp_path / "executions.db").running() == [(arn, {"k": 2})]


def crash_during_task(path, name="lost"):
    """Runs an execution whose task never returns normally, as if the process died there."""

    class Crash(BaseException):
        pass

    def crash(parameters):
        raise Crash()

    sm = machine(TASK)
    sm.runner = type("Inline", (), {"call": staticmethod(lambda fn, arg, timeout: fn(arg))})()
    store = ExecutionStore(path)
    with pytest.raises(Crash):
        sm.run({"k": 2}, registry(echo=crash), execution_name=name, listener=store)
    return f"arn:aws:states:local:000000000000:execution:test-machine:{name}"


def test_GIVEN_an_execution_interrupted_by_a_crash_WHEN_marked_aborted_THEN_it_is_ABORTED_with_an_ExecutionAborted_event(tmp_path):
    arn = crash_during_task(tmp_path / "executions.db")
    reopened = ExecutionStore(tmp_path / "executions.db")
    reopened.mark_aborted(arn, "process restarted")
    stored = reopened.get(arn)
    assert (stored["status"], stored["cause"], stored["history"][-1]["type"], reopened.running()) == ("ABORTED", "process restarted", "ExecutionAborted", [])


def test_GIVEN_an_execution_marked_aborted_while_running_WHEN_it_ends_THEN_it_stays_ABORTED(store):
    arn = "arn:aws:states:local:000000000000:execution:test-machine:slow"
    machine(TASK).run({}, registry(echo=lambda p: store.mark_aborted(arn, "stop") and {}), execution_name="slow", listener=store)
    assert store.get(arn)["status"] == "ABORTED"


def test_GIVEN_an_unknown_arn_WHEN_read_THEN_none_is_returned(store):
    assert store.get("arn:aws:states:local:000000000000:execution:x:y") is None


def test_GIVEN_executions_from_many_threads_WHEN_stored_THEN_all_are_recorded(store):
    sm = machine(TASK)
    threads = [threading.Thread(target=sm.run, args=({"i": i}, registry()), kwargs={"listener": store}) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store.list(status="SUCCEEDED", limit=100)) == 8


def test_GIVEN_executions_that_ended_differently_WHEN_counted_THEN_each_status_has_its_number(store):
    machine(TASK).run({}, registry(), listener=store)
    machine(TASK).run({}, registry(), listener=store)
    machine({"F": {"Type": "Fail", "Error": "E"}}).run({}, registry(), listener=store)
    assert store.counts() == {"SUCCEEDED": 2, "FAILED": 1}
