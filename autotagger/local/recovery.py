"""Crash recovery on start: run again what a crash interrupted.

Executions a crash left RUNNING are marked ABORTED (as Step Functions would show a stopped run),
and every outbox row (accepted, not ended) runs again under a fresh execution name, `<name>-r<n>`.
A row whose earlier run did end, and only lost its outbox cleanup, is removed instead: running it
again would duplicate its dead letter.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from autotagger.local.outbox import Outbox

log = logging.getLogger(__name__)

ENDED = ("SUCCEEDED", "FAILED", "TIMED_OUT")


def recover(outbox: Outbox, executions: Any, execution_arn: Callable[[str], str],
            schedule: Callable[[str, str, dict[str, Any]], None]) -> int:
    """Marks RUNNING executions ABORTED and calls `schedule(row name, execution name, event)` for
    each outbox row still to run; returns how many were scheduled."""
    for arn, _ in executions.running():
        executions.mark_aborted(arn, "the local runtime stopped before the execution ended; it was run again")
    scheduled = 0
    for pending in outbox.pending():
        if _ended(executions, execution_arn, pending.name, pending.attempt):
            outbox.remove(pending.name)
            continue
        attempt = pending.attempt + 1
        outbox.set_attempt(pending.name, attempt)
        log.warning("re-running interrupted execution %s (attempt %d)", pending.name, attempt)
        schedule(pending.name, f"{pending.name}-r{attempt}", pending.event)
        scheduled += 1
    return scheduled


def _ended(executions: Any, execution_arn: Callable[[str], str], name: str, attempts: int) -> bool:
    """True if an earlier run of outbox row `name` (named `name`, then `name-r1`, ...) ended."""
    for run in [name] + [f"{name}-r{k}" for k in range(1, attempts + 1)]:
        execution = executions.get(execution_arn(run))
        if execution is not None and execution["status"] in ENDED:
            return True
    return False
