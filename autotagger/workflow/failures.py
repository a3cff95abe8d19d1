"""Errors of the workflow engine: refused definitions and the States.* errors an execution raises.

A `DefinitionError` is raised at load time, before anything runs, so an unsupported or invalid
definition is never executed wrongly. A `StatesFailure` travels through the interpreter as an
exception until a Retry or Catch handles it or it ends the execution; `terminal` failures
(States.Runtime, States.DataLimitExceeded, the execution's own timeout) skip every Retry and
Catch, as the Amazon States Language says.
"""

from __future__ import annotations

ALL = "States.ALL"
TASK_FAILED = "States.TaskFailed"
TIMEOUT = "States.Timeout"
HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
RUNTIME = "States.Runtime"
DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"
INTRINSIC_FAILURE = "States.IntrinsicFailure"
NO_CHOICE_MATCHED = "States.NoChoiceMatched"
BRANCH_FAILED = "States.BranchFailed"

# Every States.* name the specification and Step Functions define; ErrorEquals may only use these
# (plus user names without the reserved prefix), so a typo such as "States.Timeot" is refused.
KNOWN_STATES_ERRORS = frozenset({
    ALL, TASK_FAILED, TIMEOUT, HEARTBEAT_TIMEOUT, RUNTIME, DATA_LIMIT_EXCEEDED, INTRINSIC_FAILURE,
    NO_CHOICE_MATCHED, BRANCH_FAILED, "States.Permissions", "States.ResultPathMatchFailure",
    "States.ParameterPathFailure", "States.ExceedToleratedFailureThreshold", "States.ItemReaderFailed",
    "States.ResultWriterFailed", "States.QueryEvaluationError", "States.Http.Socket",
})

# Never retried nor caught, whatever ErrorEquals says.
TERMINAL_ERRORS = frozenset({RUNTIME, DATA_LIMIT_EXCEEDED})

PAYLOAD_LIMIT_BYTES = 262_144  # 256 KiB, the Step Functions quota on any input or output


class DefinitionError(ValueError):
    """The definition cannot be run: invalid, unsupported by this engine, or not wired up."""


class UnknownResourceError(DefinitionError):
    """A Task names a resource ARN the TaskRegistry has no adapter for."""


class StatesFailure(Exception):
    """An error raised inside an execution, named like Step Functions names it."""

    def __init__(self, error: str, cause: str = "", *, terminal: bool | None = None):
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause
        self.terminal = error in TERMINAL_ERRORS if terminal is None else terminal


class ExecutionTimedOut(StatesFailure):
    """The state machine's own TimeoutSeconds ran out; ends the execution as TIMED_OUT."""

    def __init__(self, seconds: float):
        super().__init__(TIMEOUT, f"The execution exceeded its TimeoutSeconds of {seconds:g}.", terminal=True)


class ExecutionCancelled(StatesFailure):
    """A sibling branch failed (Parallel/Map): this branch stops at its next state transition."""

    def __init__(self) -> None:
        super().__init__(BRANCH_FAILED, "Cancelled because a sibling branch failed.", terminal=True)


def check_size(text: str, state: str, what: str) -> str:
    """Raises States.DataLimitExceeded when a payload is over the 256 KiB quota."""
    if len(text) > PAYLOAD_LIMIT_BYTES // 4 and len(text.encode()) > PAYLOAD_LIMIT_BYTES:
        raise StatesFailure(
            DATA_LIMIT_EXCEEDED,
            f"The {what} of state '{state}' has a size of {len(text.encode())} bytes, "
            f"over the limit of {PAYLOAD_LIMIT_BYTES} bytes.",
        )
    return text


def runtime_error(state: str, message: str) -> StatesFailure:
    return StatesFailure(RUNTIME, f"An error occurred while executing the state '{state}'. {message}")


def error_matches(patterns: frozenset[str], error: str) -> bool:
    """ErrorEquals matching: exact names, States.ALL, and States.TaskFailed (all but States.Timeout)."""
    if error in TERMINAL_ERRORS:
        return False
    if error in patterns or ALL in patterns:
        return True
    return TASK_FAILED in patterns and error != TIMEOUT
