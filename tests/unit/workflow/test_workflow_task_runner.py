"""The deadline runner: real worker threads, short deadlines (fractions of a second)."""

from __future__ import annotations

import threading

import pytest

from autotagger.workflow.task_runner import TaskDeadlineExceeded, TaskRunner


def test_GIVEN_no_timeout_WHEN_called_THEN_the_adapter_runs_in_the_calling_thread():
    assert TaskRunner().call(lambda _: threading.current_thread(), None, None) is threading.current_thread()


def test_GIVEN_a_timeout_WHEN_the_adapter_answers_in_time_THEN_its_result_is_returned():
    assert TaskRunner().call(lambda x: x + 1, 1, 5) == 2


def test_GIVEN_a_timeout_WHEN_the_adapter_raises_THEN_the_exception_reaches_the_caller():
    with pytest.raises(KeyError):
        TaskRunner().call(lambda _: {}["x"], None, 5)


def test_GIVEN_a_hung_adapter_WHEN_its_deadline_passes_THEN_the_call_is_abandoned_with_TaskDeadlineExceeded():
    release = threading.Event()
    with pytest.raises(TaskDeadlineExceeded):
        TaskRunner().call(lambda _: release.wait(10), None, 0.05)
    release.set()


def test_GIVEN_an_abandoned_call_WHEN_later_calls_come_THEN_they_get_another_worker():
    runner, release = TaskRunner(), threading.Event()
    with pytest.raises(TaskDeadlineExceeded):
        runner.call(lambda _: release.wait(10), None, 0.05)
    assert runner.call(lambda x: x, "next", 5) == "next" and runner.workers == 2
    release.set()


def test_GIVEN_sequential_calls_WHEN_each_finishes_THEN_one_worker_is_reused():
    runner = TaskRunner()
    for i in range(20):
        runner.call(lambda x: x, i, 5)
    assert runner.workers == 1
