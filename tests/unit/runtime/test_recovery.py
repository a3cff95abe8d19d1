"""Crash recovery on start: what a crash interrupted runs again, what ended does not."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from autotagger.local.outbox import Outbox
from autotagger.local.recovery import recover
from autotagger.workflow.store import ExecutionStore
from tests.fakes import FakeDeadLetters

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

    assert recover(outbox, executions, arn, lambda *call: scheduled.append(call), FakeDeadLetters()) == 1
    assert scheduled == [("e-1", "e-1-r1", EVENT)]
    assert [(p.name, p.attempt) for p in outbox.pending()] == [("e-1", 1)]


def test_given_a_row_whose_rerun_ended_but_kept_its_row_when_recovering_then_it_is_removed_not_run(stores):
    outbox, executions = stores
    outbox.add("e-1", EVENT)
    outbox.set_attempt("e-1", 1)
    run(executions, "e-1", "ExecutionAborted")
    run(executions, "e-1-r1", "ExecutionFailed")  # it sent its dead letter; only the row's removal was lost
    scheduled = []

    assert recover(outbox, executions, arn, lambda *call: scheduled.append(call), FakeDeadLetters()) == 0
    assert scheduled == [] and outbox.pending() == []


def test_given_an_execution_left_running_when_recovering_then_it_is_aborted_and_its_row_runs_again(stores):
    outbox, executions = stores
    outbox.add("e-1", EVENT)
    run(executions, "e-1")
    scheduled = []

    recover(outbox, executions, arn, lambda *call: scheduled.append(call), FakeDeadLetters())

    assert executions.get(arn("e-1"))["status"] == "ABORTED"
    assert scheduled == [("e-1", "e-1-r1", EVENT)]


def test_given_a_run_that_stored_its_dead_letter_but_died_before_its_end_when_recovering_then_it_is_not_run_again(
        stores):
    outbox, executions = stores
    event = {"id": "e-1", "detail-type": "Object Created",
             "detail": {"bucket": {"name": "image-vaults"}, "object": {"key": "bad.png", "sequencer": "0A"}}}
    outbox.add("e-1", event)
    run(executions, "e-1")  # the kill fell after its SendMessage task, before ExecutionFailed was written
    dead_letters = FakeDeadLetters()
    dead_letters.send(json.dumps({"event": event, "error": "Rekognition.InvalidImageFormatException",
                                  "cause": "not an image", "execution_id": arn("e-1")}))
    scheduled = []

    assert recover(outbox, executions, arn, lambda *call: scheduled.append(call), dead_letters) == 0
    assert scheduled == [] and outbox.pending() == [] and len(dead_letters.letters) == 1
    assert executions.get(arn("e-1"))["status"] == "ABORTED"  # as Step Functions shows a stopped run


def test_given_a_dead_letter_of_another_run_of_the_object_when_recovering_then_the_row_still_runs(stores):
    outbox, executions = stores
    event = {"id": "e-2", "detail-type": "Object Created",
             "detail": {"bucket": {"name": "image-vaults"}, "object": {"key": "bad.png", "sequencer": "0A"}}}
    outbox.add("e-2", event)
    dead_letters = FakeDeadLetters()
    dead_letters.send(json.dumps({"event": event, "error": "X", "cause": "y", "execution_id": arn("other")}))
    scheduled = []

    assert recover(outbox, executions, arn, lambda *call: scheduled.append(call), dead_letters) == 1
    assert scheduled == [("e-2", "e-2-r1", event)]
