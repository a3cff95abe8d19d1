"""`ports.Executions` in memory: what the workflow engine's listener records, by execution ARN."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from typing import Any

_TERMINAL = {"ExecutionSucceeded": "SUCCEEDED", "ExecutionFailed": "FAILED", "ExecutionTimedOut": "TIMED_OUT",
             "ExecutionAborted": "ABORTED"}


def _iso(moment: Any) -> Any:
    return moment.isoformat() if isinstance(moment, datetime) else moment


class FakeExecutions:
    def __init__(self):
        self.executions: dict[str, dict[str, Any]] = {}  # arn -> execution with its "history", in start order
        self.closed = False

    def on_event(self, execution: Any, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind == "ExecutionStarted":
            self.executions[execution.arn] = {
                "executionArn": execution.arn, "name": execution.name, "stateMachineArn": execution.state_machine_arn,
                "status": "RUNNING", "input": event["executionStartedEventDetails"]["input"], "output": None,
                "error": None, "cause": None, "startDate": _iso(execution.start_date), "stopDate": None, "history": []}
        stored = self.executions.get(execution.arn)
        if stored is None or stored["status"] != "RUNNING":
            return  # aborted meanwhile: its end is not recorded
        stored["history"].append({**event, "timestamp": _iso(event["timestamp"])})
        if kind in _TERMINAL:
            details = event.get(kind[0].lower() + kind[1:] + "EventDetails", {})
            stored.update(status=_TERMINAL[kind], output=details.get("output"), error=details.get("error"),
                          cause=details.get("cause"), stopDate=_iso(event["timestamp"]))

    def list(self, status: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        newest_first = reversed(self.executions.values())
        return [{k: v for k, v in e.items() if k != "history"} for e in newest_first
                if status in (None, e["status"])][:limit]

    def get(self, execution_arn: str) -> dict[str, Any] | None:
        found = self.executions.get(execution_arn)
        return None if found is None else copy.deepcopy(found)

    def counts(self) -> dict[str, int]:
        counted: dict[str, int] = {}
        for execution in self.executions.values():
            counted[execution["status"]] = counted.get(execution["status"], 0) + 1
        return counted

    def running(self) -> list[tuple[str, Any]]:
        return [(arn, json.loads(e["input"])) for arn, e in self.executions.items() if e["status"] == "RUNNING"]

    def mark_aborted(self, execution_arn: str, reason: str) -> bool:
        execution = self.executions.get(execution_arn)
        if execution is None or execution["status"] != "RUNNING":
            return False
        execution.update(status="ABORTED", error="States.Aborted", cause=reason)
        return True

    def close(self) -> None:
        self.closed = True
