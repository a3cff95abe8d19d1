"""The outbox of pending executions: idempotent by name, durable across a reopen."""

from __future__ import annotations

import pytest

from autotagger.local.outbox import Outbox, PendingExecution

EVENT = {"id": "e-1", "detail-type": "Object Created", "detail": {"object": {"key": "cat.png"}}}


@pytest.fixture
def outbox(tmp_path):
    box = Outbox(tmp_path / "runtime.sqlite3")
    yield box
    box.close()


def test_given_a_name_added_twice_when_listed_then_it_is_pending_once_with_its_event(outbox):
    assert outbox.add("e-1", EVENT) is True
    assert outbox.add("e-1", {"other": "event"}) is False
    assert outbox.pending() == [PendingExecution("e-1", EVENT, 0)]


def test_given_pending_executions_when_the_outbox_is_reopened_then_they_and_their_attempts_are_still_there(tmp_path):
    first = Outbox(tmp_path / "runtime.sqlite3")
    first.add("older", EVENT)
    first.add("newer", EVENT)
    first.set_attempt("older", 2)
    first.close()

    reopened = Outbox(tmp_path / "runtime.sqlite3")
    assert [(p.name, p.attempt) for p in reopened.pending()] == [("older", 2), ("newer", 0)]
    reopened.close()


def test_given_a_removed_execution_when_listed_then_it_is_gone_and_its_name_can_be_added_again(outbox):
    outbox.add("e-1", EVENT)
    outbox.remove("e-1")
    assert outbox.pending() == []
    assert outbox.add("e-1", EVENT) is True
