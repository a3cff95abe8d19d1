"""Crash recovery on start: run again what a crash interrupted.

Executions a crash left RUNNING are marked ABORTED (as Step Functions would show a stopped run),
and every outbox row (accepted, not ended) runs again under a fresh execution name, `<name>-r<n>`.
A row whose earlier run did end, and only lost its outbox cleanup, is removed instead: running it
again would duplicate its dead letter. So is a row whose earlier run stored its dead letter but died
before the execution's end was written (the kill fell between the SendMessage task and
ExecutionFailed): the dead letter names the execution, and one is all the invariant allows.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from autotagger.local.outbox import Outbox

log = logging.getLogger(__name__)

ENDED = ("SUCCEEDED", "FAILED", "TIMED_OUT")


def recover(outbox: Outbox, executions: Any, execution_arn: Callable[[str], str],
            schedule: Callable[[str, str, dict[str, Any]], None], dead_letters: Any) -> int:
    """Marks RUNNING executions ABORTED and calls `schedule(row name, execution name, event)` for
    each outbox row still to run; returns how many were scheduled."""
    for arn, _ in executions.running():
        executions.mark_aborted(arn, "the local runtime stopped before the execution ended; it was run again")
    scheduled = 0
    for pending in outbox.pending():
        runs = [execution_arn(run) for run in _runs(pending.name, pending.attempt)]
        if _ended(executions, runs) or _dead_lettered(dead_letters, pending.event, runs):
            outbox.remove(pending.name)
            continue
        attempt = pending.attempt + 1
        outbox.set_attempt(pending.name, attempt)
        log.warning("re-running interrupted execution %s (attempt %d)", pending.name, attempt)
        schedule(pending.name, f"{pending.name}-r{attempt}", pending.event)
        scheduled += 1
    return scheduled


def _runs(name: str, attempts: int) -> list[str]:
    """The names the runs of outbox row `name` had: `name`, then `name-r1`, ..."""
    return [name] + [f"{name}-r{k}" for k in range(1, attempts + 1)]


def _ended(executions: Any, runs: list[str]) -> bool:
    """True if an earlier run (by ARN) ended."""
    return any((execution := executions.get(arn)) is not None and execution["status"] in ENDED for arn in runs)


def _dead_lettered(dead_letters: Any, event: dict[str, Any], runs: list[str]) -> bool:
    """True if an earlier run (by ARN) already stored the dead letter of this event's object."""
    try:
        bucket, obj = event["detail"]["bucket"]["name"], event["detail"]["object"]
        letters = dead_letters.about(bucket, obj["key"], obj.get("sequencer"))
    except (KeyError, TypeError):
        return False  # not an S3 event: its dead letter is not indexed by object, and it cannot have one twice
    for letter in letters:
        try:
            if json.loads(letter.body).get("execution_id") in runs:
                return True
        except (ValueError, AttributeError):
            continue
    return False
