"""The per-execution run state: what every state needs while an execution runs.

`Run` carries the registry, the injectable sleeper/random/clock, the history and the execution's
own deadline; `Branch` is one line of control (the main flow, a Parallel branch or a Map
iteration) with the id of its last event, for `previousEventId`, and a cancel flag.

This module never imports the state types: `states` depends on it, not the other way round, so
parse (`definition`) → states → run state is one direction and each layer can be read, and tested,
without the ones above it. Walking a graph of states is the states' job (`states.Graph.run`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from random import Random
from typing import Any

from autotagger.contracts import LOCAL_ACCOUNT

from .failures import ExecutionCancelled, ExecutionTimedOut, StatesFailure, check_size, runtime_error
from .history import Execution, ExecutionListener, History, iso_millis
from .intrinsics import json_text
from .registry import TaskRegistry
from .task_runner import TaskRunner

log = logging.getLogger(__name__)

LOCAL_ROLE = f"arn:aws:iam::{LOCAL_ACCOUNT}:role/local-workflow"


class Branch:
    __slots__ = ("previous", "_cancelled", "_parent", "_last_value", "_last_text")

    def __init__(self, previous: int, parent: Branch | None = None):
        self.previous = previous
        self._cancelled = False
        self._parent = parent
        self._last_value: Any = None
        self._last_text: str | None = None

    def text(self, value: Any, state: str, what: str) -> str:
        """JSON text of a state input/output for the history, size-checked.

        One state's output is usually the very object the next state gets as input (and a Choice
        passes its input through), so the last serialization is reused when the object is the
        same; values are never mutated, which makes identity a safe key.
        """
        if value is self._last_value and self._last_text is not None:
            return self._last_text
        text = check_size(json_text(value), state, what)
        self._last_value, self._last_text = value, text
        return text

    def child(self) -> Branch:
        return Branch(self.previous, self)

    def cancel(self) -> None:
        self._cancelled = True

    @property
    def cancelled(self) -> bool:
        branch: Branch | None = self
        while branch is not None:
            if branch._cancelled:
                return True
            branch = branch._parent
        return False


class LazyContext:
    """Calling it gives the context object; most states never read `$$`, so it is built on demand."""

    __slots__ = ("_run", "_state", "_retries", "_map_item", "_entered", "_value")

    def __init__(self, run: Run, state: str, retries: int, map_item: dict[str, Any] | None, entered: datetime):
        self._run, self._state, self._retries, self._map_item, self._entered = run, state, retries, map_item, entered
        self._value: dict[str, Any] | None = None

    def __call__(self) -> dict[str, Any]:
        if self._value is None:
            value = {
                "Execution": self._run._execution_context,
                "StateMachine": self._run._state_machine_context,
                "State": {"Name": self._state, "EnteredTime": iso_millis(self._entered), "RetryCount": self._retries},
                "Task": {},
            }
            if self._map_item is not None:
                value["Map"] = {"Item": self._map_item}
            self._value = value
        return self._value


class Run:
    def __init__(
        self,
        *,
        registry: TaskRegistry,
        history: History,
        execution_context: dict[str, Any],
        state_machine_context: dict[str, Any],
        sleeper: Callable[[float], Any],
        rng: Random,
        clock: Callable[[], datetime],
        runner: TaskRunner,
        timeout_seconds: float | None,
        region: str,
    ):
        self.registry = registry
        self.history = history
        self.sleeper = sleeper
        self.rng = rng
        self.clock = clock
        self.runner = runner
        self.region = region
        self._execution_context = execution_context
        self._state_machine_context = state_machine_context
        self._timeout_seconds = timeout_seconds
        self._deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
        self._sleep_lock = threading.Lock()

    @property
    def execution_id(self) -> str:
        return str(self._execution_context["Id"])

    @property
    def state_machine_id(self) -> str:
        return str(self._state_machine_context["Id"])

    def context(
        self, branch: Branch, state: str, retries: int = 0, map_item: dict[str, Any] | None = None
    ) -> LazyContext:
        """The context object `$$` as a state sees it, built only if a path asks for it."""
        return LazyContext(self, state, retries, map_item, self.clock())

    def remaining(self) -> float | None:
        return None if self._deadline is None else self._deadline - time.monotonic()

    def check(self, branch: Branch) -> None:
        if self._deadline is not None and time.monotonic() >= self._deadline:
            raise ExecutionTimedOut(self._timeout_seconds or 0)
        if branch.cancelled:
            raise ExecutionCancelled()

    def sleep(self, seconds: float, branch: Branch) -> None:
        """Waits (Wait state, Retry interval) through the injected sleeper, never past the execution's deadline."""
        remaining = self.remaining()
        if remaining is not None and seconds >= remaining:
            self.sleeper(max(remaining, 0.0))
            raise ExecutionTimedOut(self._timeout_seconds or 0)
        if seconds > 0:
            self.sleeper(seconds)
        self.check(branch)

    def for_child(self, history: History, execution_context: dict[str, Any],
                  state_machine_context: dict[str, Any]) -> Run:
        """The run state of a child workflow execution (distributed Map): its own history and
        context, this run's adapters, sleeper, random, clock and region, no deadline of its own."""
        return Run(registry=self.registry, history=history, execution_context=execution_context,
                   state_machine_context=state_machine_context, sleeper=self.sleeper, rng=self.rng,
                   clock=self.clock, runner=self.runner, timeout_seconds=None, region=self.region)


def execution_context(execution: Execution, role: str) -> dict[str, Any]:
    """`$$.Execution` of an execution."""
    return {"Id": execution.arn, "Name": execution.name, "Input": execution.input,
            "StartTime": iso_millis(execution.start_date), "RoleArn": role}


def begin_execution(execution: Execution, listener: ExecutionListener | None, clock: Callable[[], datetime],
                    input_text: str, role: str) -> History:
    """Records ExecutionStarted (durable before any task: a listener error is raised) and returns the history."""
    history = History(execution, listener, clock)
    execution.history = history.events
    history.add("ExecutionStarted", {"input": input_text, "inputDetails": {"truncated": False}, "roleArn": role},
                0, raise_listener_errors=True)
    return history


def execute(execution: Execution, run: Run, body: Callable[[Run, Any, Branch], Any], value: Any) -> None:
    """Runs `body` (a graph of states) as the whole of `execution` and records how it ended."""
    history = run.history
    branch = Branch(1)
    try:
        output = body(run, value, branch)
        output_text = branch.text(output, "(execution)", "output")
    except ExecutionTimedOut as failure:
        _finish(execution, history, branch, "TIMED_OUT", "ExecutionTimedOut", failure)
    except StatesFailure as failure:
        _finish(execution, history, branch, "FAILED", "ExecutionFailed", failure)
    except Exception as exc:  # an engine defect: the execution fails visibly rather than hangs RUNNING
        log.exception("workflow engine error in %s", execution.arn)
        _finish(execution, history, branch, "FAILED", "ExecutionFailed",
                runtime_error("?", f"Internal engine error: {type(exc).__name__}: {exc}"))
    else:
        execution.status, execution.output = "SUCCEEDED", output
        execution.stop_date = run.clock()
        history.add("ExecutionSucceeded", {"output": output_text, "outputDetails": {"truncated": False}},
                    branch.previous)


def _finish(execution: Execution, history: History, branch: Branch, status: str, event: str,
            failure: StatesFailure) -> None:
    execution.status, execution.error, execution.cause = status, failure.error, failure.cause
    execution.stop_date = history._clock()
    history.add(event, {"error": failure.error, "cause": failure.cause}, branch.previous)
