"""`ports.ExecutionLookup` in memory: given execution summaries (each with the object `key` its
input is about), newest first as given; the cursor is an offset."""

from __future__ import annotations

from typing import Any

from autotagger.errors import InvalidCursor


class FakeExecutionLookup:
    """`executions`: summaries as the API lists them plus "key"; `calls` records each list."""

    def __init__(self, executions: list[dict[str, Any]] | None = None):
        self.executions = list(executions or [])
        self.calls: list[dict[str, Any]] = []

    def list(self, status: str | None = None, key: str | None = None, limit: int = 50,
             cursor: str | None = None) -> dict[str, Any]:
        self.calls.append({"status": status, "key": key, "limit": limit, "cursor": cursor})
        if cursor is not None and not cursor.isdigit():
            raise InvalidCursor("not an offset")
        start = int(cursor or 0)
        found = [e for e in self.executions if status in (None, e["status"]) and key in (None, e.get("key"))]
        page = found[start:start + limit]
        more = start + limit < len(found)
        return {"executions": [{k: v for k, v in e.items() if k != "key"} for e in page],
                "next_cursor": str(start + limit) if more else None}

    def describe(self, name: str) -> dict[str, Any] | None:
        for execution in self.executions:
            if execution["name"] == name:
                return {**{k: v for k, v in execution.items() if k != "key"}, "input": None, "output": None,
                        "history": [], "failed_state": None}
        return None
