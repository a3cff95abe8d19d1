"""Execution history events shaped like Step Functions' GetExecutionHistory.

Each event is `{"id", "previousEventId", "timestamp", "type", "<detailsKey>": {...}}`; inputs and
outputs inside details are JSON text, as the API returns them, and timestamps are timezone-aware
UTC datetimes, as boto3 returns them. State events share `stateEnteredEventDetails` /
`stateExitedEventDetails`, as in the API.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any, Protocol

log = logging.getLogger(__name__)


class ExecutionListener(Protocol):
    def on_event(self, execution: Any, event: dict[str, Any]) -> None: ...


@cache
def details_key(event_type: str) -> str:
    if event_type.endswith("StateEntered"):
        return "stateEnteredEventDetails"
    if event_type.endswith("StateExited"):
        return "stateExitedEventDetails"
    return event_type[0].lower() + event_type[1:] + "EventDetails"


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_millis(moment: datetime) -> str:
    """`2026-11-25T12:00:00.123Z`, the format of `$$.Execution.StartTime` and `$$.State.EnteredTime`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class Execution:
    """One execution, shaped like DescribeExecution plus its history.

    `input` and `output` are JSON values (not JSON text); `history` holds GetExecutionHistory-shaped
    events. A distributed Map's child workflow execution names its parent execution and Map Run
    (`parent_arn`, `map_run_arn`), as DescribeExecution's `mapRunArn` does.
    """

    arn: str
    name: str
    state_machine_arn: str
    input: Any
    start_date: datetime
    status: str = "RUNNING"
    output: Any = None
    error: str | None = None
    cause: str | None = None
    stop_date: datetime | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    parent_arn: str | None = None
    map_run_arn: str | None = None


class History:
    """Appends events for one execution (thread-safe: Parallel and Map branches add concurrently)."""

    def __init__(self, execution: Any, listener: ExecutionListener | None, clock: Callable[[], datetime]):
        self.events: list[dict[str, Any]] = []
        self._execution = execution
        self._listener = listener
        self._clock = clock
        self._lock = threading.Lock()

    @property
    def listener(self) -> ExecutionListener | None:
        """Where this execution's events go; a distributed Map sends its child executions' there too."""
        return self._listener

    def add(
        self, event_type: str, details: dict[str, Any] | None, previous: int, *, raise_listener_errors: bool = False
    ) -> int:
        with self._lock:
            event_id = len(self.events) + 1
            event = {"id": event_id, "previousEventId": previous, "timestamp": self._clock(), "type": event_type}
            if details is not None:
                event[details_key(event_type)] = details
            self.events.append(event)
        if self._listener is not None:
            try:
                self._listener.on_event(self._execution, event)
            except Exception:
                if raise_listener_errors:
                    raise
                log.exception(
                    "execution listener failed on %s event %d of %s",
                    event_type,
                    event_id,
                    getattr(self._execution, "arn", "?"),
                )
        return event_id


def _failure_details(event: dict[str, Any]) -> dict[str, Any] | None:
    """The `...FailedEventDetails` of a task's or a function's failure (not a state's or the execution's)."""
    kind = event.get("type", "")
    if not kind.endswith("Failed") or kind == "ExecutionFailed" or kind.endswith("StateFailed"):
        return None
    return next((value for key, value in event.items() if key.endswith("FailedEventDetails")), None)


def failed_state(events: list[dict[str, Any]]) -> str | None:
    """The state an execution failed in: the last task whose failure carries the execution's error,
    or, when no task failed with it (a check refused the input and a Pass wrote the error), the
    state the run entered before the dead letter. None unless the execution failed.

    The states are found through each event's `previousEventId` (TaskFailed <- TaskStarted <-
    TaskScheduled <- TaskStateEntered), never by position: the analyses run side by side in a
    Parallel state, so branch events interleave. A failure that a Catch recovered from (DetectLabels
    refusing a HEIC, which is then normalised; an optional analysis recorded in `analysis_errors`)
    carries another error, or belongs to an execution that succeeded."""
    ended = next((event for event in reversed(events) if event.get("type") == "ExecutionFailed"), None)
    if ended is None:
        return None
    error = (ended.get("executionFailedEventDetails") or {}).get("error")
    by_id = {event.get("id"): event for event in events}

    def state_of(event: dict[str, Any] | None) -> str | None:
        while event is not None:
            entered = event.get("stateEnteredEventDetails")
            if entered is not None:
                name = entered.get("name")
                return name if isinstance(name, str) else None
            event = by_id.get(event.get("previousEventId"))
        return None

    failures = [event for event in events if _failure_details(event) is not None]
    matching = [event for event in failures if (_failure_details(event) or {}).get("error") == error]
    if matching:
        return state_of(matching[-1])
    dead_letter = next((event for event in events
                        if (event.get("stateEnteredEventDetails") or {}).get("name") == "BuildDeadLetter"), None)
    if dead_letter is not None:
        return state_of(by_id.get(dead_letter.get("previousEventId")))
    return state_of(failures[-1]) if failures else None
