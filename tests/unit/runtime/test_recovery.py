"""Crash recovery on start: what a crash interrupted runs again, what ended does not."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from autotagger.local.outbox import Outbox
from autotagger.local.recovery import recover
from autotagger.workflow.store import ExecutionStore

EVENT = {"id": "e-1", "detail-type": "Object Created"}


def arn(name):
    return f"arn:aws:states:us-east-1:000000000000:execution:image-tagging:{name}"


@pytest.fixture
def stores(tmp_path):
    outbox, executions = Outbox(tmp_path / "runtime.sqlite3"), ExecutionStore(tmp_path / "executions.sqlite3")
    yield outbox, executions
    outbox.close()
    executions.close()


def run(executions, name, end=None):
    """Records execution `name` as started and, with `end` ("ExecutionSucceeded", ...), as ended."""
    now = datetime.now(UTC)
    execution = SimpleNamespace(arn=arn(name), name=name, state_machine_arn="arn:sm", start_date=now)
    executions.on_event(execution, {"id": 1, "previousEventId": 0, "type": "ExecutionStarted", "timestamp": now,
                                    "executionStartedEventDetails": {"input": "{}"}})
    if end:
        executions.on_event(execution, {"id": 2, "previousEventId": 1, "type": end, "timestamp": now})


def test_given_a_pending_row_that_never_ran_when_recovering_then_it_runs_again_under_a_new_name(stores):
    outbox, executions = stores
    outbox.add("e-1", EVENT)
    scheduled = []

    assert recover(outbox, executions, arn, lambda *call: scheduled.append(call)) == 1
    assert scheduled == [("e-1", "e-1-r1", EVENT)]
    assert [(p.name, p.attempt) for p in outbox.pending()] == [("e-1", 1)]


def test_given_a_row_whose_rerun_ended_but_kept_its_row_when_recovering_then_it_is_removed_not_run(stores):
    outbox, executions = stores
    outbox.add("e-1", EVENT)
    outbox.set_attempt("e-1", 1)
    run(executions, "e-1", "ExecutionAborted")
    run(executions, "e-1-r1", "ExecutionFailed")  # it sent its dead letter; only the row's removal was lost
    scheduled = []

    assert recover(outbox, executions, arn, lambda *call: scheduled.append(call)) == 0
    assert scheduled == [] and outbox.pending() == []


def test_given_an_execution_left_running_when_recovering_then_it_is_aborted_and_its_row_runs_again(stores):
    outbox, executions = stores
    outbox.add("e-1", EVENT)
    run(executions, "e-1")
    scheduled = []

    recover(outbox, executions, arn, lambda *call: scheduled.append(call))

    assert executions.get(arn("e-1"))["status"] == "ABORTED"
    assert scheduled == [("e-1", "e-1-r1", EVENT)]
