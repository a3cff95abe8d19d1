"""The eight state types, compiled from the definition and run against the execution's run state.

Imports go one way, parse → states → run state: `definition` builds these classes, they walk
themselves (`Graph.run`) and call into `interpreter`'s `Run` and `Branch`, which know nothing
of state types (tests/unit/workflow/test_workflow_imports.py keeps it so).

Each state's `run(ctx, branch, data)` returns `(next state name or None at the end, output)` and
records its history events. Input/output processing follows the specification's order:
InputPath → Parameters → (task/branches/iterations) → ResultSelector → ResultPath → OutputPath;
Retry and Catch wrap everything from InputPath to OutputPath for Task, Parallel and Map.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from functools import partial
from time import monotonic
from typing import Any, Literal

from autotagger.errors import ServiceError

from .choice import Predicate, parse_timestamp
from .failures import (
    HEARTBEAT_TIMEOUT,
    NO_CHOICE_MATCHED,
    TASK_FAILED,
    TIMEOUT,
    ExecutionCancelled,
    StatesFailure,
    check_size,
    runtime_error,
)
from .interpreter import Branch, Run
from .intrinsics import json_text
from .paths import MISSING, JsonPath, PathField, ReferencePath, set_path
from .retry import Catcher, Retrier
from .task_runner import TaskDeadlineExceeded
from .templates import Evaluator


@dataclass
class Graph:
    """A state machine or one Parallel branch / Map processor: StartAt and its states."""

    start_at: str
    states: dict[str, State]

    def run(self, run: Run, data: Any, branch: Branch) -> Any:
        """Runs states from StartAt until one ends the graph; returns its output."""
        states = self.states
        name: str | None = self.start_at
        while name is not None:
            run.check(branch)
            name, data = states[name].run(run, branch, data)
        return data


class State:
    type = "State"
    next: str | None = None

    def __init__(self, name: str, *, next_state: str | None = None, input_path: PathField = "$",
                 output_path: PathField = "$"):
        self.name = name
        self.next = next_state
        self.input_path = input_path
        self.output_path = output_path
        self.entered_type = f"{self.type}StateEntered"
        self.exited_type = f"{self.type}StateExited"

    # -- helpers shared by the state types
    def select(self, path: PathField, data: Any, field: str) -> Any:
        if path == "$":
            return data
        if path is None:
            return {}
        value = path.get(data)
        if value is MISSING:
            raise runtime_error(
                self.name,
                f"Invalid path '{path.text}' for {field}: No results for path: {path.text} in '{json_text(data)}'",
            )
        return value

    def enter(self, run: Run, branch: Branch, data: Any) -> None:
        branch.previous = run.history.add(
            self.entered_type,
            {"name": self.name, "input": branch.text(data, self.name, "input"), "inputDetails": {"truncated": False}},
            branch.previous,
        )

    def exit(self, run: Run, branch: Branch, output: Any) -> None:
        branch.previous = run.history.add(
            self.exited_type,
            {
                "name": self.name,
                "output": branch.text(output, self.name, "output"),
                "outputDetails": {"truncated": False},
            },
            branch.previous,
        )

    def run(self, run: Run, branch: Branch, data: Any) -> tuple[str | None, Any]:  # pragma: no cover - abstract
        raise NotImplementedError


def apply_result_path(state: str, path: ReferencePath | Literal["$"] | None, raw_input: Any, result: Any) -> Any:
    if path is None:
        return raw_input
    if path == "$":
        return result
    try:
        return set_path(raw_input, path.steps, result)
    except LookupError as exc:
        raise runtime_error(
            state, f"Unable to apply ResultPath '{path.text}' to input '{json_text(raw_input)}': {exc}"
        ) from None


class Pass(State):
    type = "Pass"

    def __init__(
        self,
        name: str,
        *,
        parameters: Evaluator | None,
        result: Any,
        result_path: ReferencePath | Literal["$"] | None,
        **common: Any,
    ):
        super().__init__(name, **common)
        self.parameters = parameters
        self.result = result
        self.result_path = result_path

    def run(self, run: Run, branch: Branch, data: Any) -> tuple[str | None, Any]:
        self.enter(run, branch, data)
        value = self.select(self.input_path, data, "InputPath")
        if self.parameters is not None:
            value = self.parameters(value, run.context(branch, self.name), run.rng, self.name)
        if self.result is not MISSING:
            value = self.result
        output = self.select(
            self.output_path, apply_result_path(self.name, self.result_path, data, value), "OutputPath"
        )
        self.exit(run, branch, output)
        return self.next, output


class Succeed(State):
    type = "Succeed"

    def run(self, run: Run, branch: Branch, data: Any) -> tuple[str | None, Any]:
        self.enter(run, branch, data)
        output = self.select(self.output_path, self.select(self.input_path, data, "InputPath"), "OutputPath")
        self.exit(run, branch, output)
        return None, output


class Fail(State):
    type = "Fail"

    def __init__(self, name: str, *, error: Evaluator | str | None, cause: Evaluator | str | None):
        super().__init__(name)
        self.error = error
        self.cause = cause

    def _text(self, run: Run, branch: Branch, data: Any, value: Evaluator | str | None, field: str) -> str | None:
        if value is None or isinstance(value, str):
            return value
        result = value(data, run.context(branch, self.name), run.rng, self.name)
        if not isinstance(result, str):
            raise runtime_error(self.name, f"The {field} must resolve to a string, got {json_text(result)}")
        return result

    def run(self, run: Run, branch: Branch, data: Any) -> tuple[str | None, Any]:
        self.enter(run, branch, data)
        error = self._text(run, branch, data, self.error, "ErrorPath")
        cause = self._text(run, branch, data, self.cause, "CausePath")
        raise StatesFailure(error or "", cause or "", terminal=False)


class Choice(State):
    type = "Choice"

    def __init__(self, name: str, *, rules: list[tuple[Predicate, str]], default: str | None, **common: Any):
        super().__init__(name, **common)
        self.rules = rules
        self.default = default

    def run(self, run: Run, branch: Branch, data: Any) -> tuple[str | None, Any]:
        self.enter(run, branch, data)
        value = self.select(self.input_path, data, "InputPath")
        context = run.context(branch, self.name)
        target = self.default
        for predicate, next_state in self.rules:
            if predicate(value, context, self.name):
                target = next_state
                break
        if target is None:
            raise StatesFailure(NO_CHOICE_MATCHED, f"No Matches! (state '{self.name}' has no Default)")
        output = self.select(self.output_path, value, "OutputPath")
        self.exit(run, branch, output)
        return target, output


class Wait(State):
    type = "Wait"

    def __init__(
        self,
        name: str,
        *,
        seconds: int | None,
        timestamp: str | None,
        seconds_path: Evaluator | None,
        timestamp_path: Evaluator | None,
        **common: Any,
    ):
        super().__init__(name, **common)
        self.seconds = seconds
        self.timestamp = timestamp
        self.seconds_path = seconds_path
        self.timestamp_path = timestamp_path

    def _delay(self, run: Run, branch: Branch, value: Any) -> float:
        if self.seconds is not None:
            return float(self.seconds)
        if self.seconds_path is not None:
            seconds = self.seconds_path(value, run.context(branch, self.name), run.rng, self.name)
            if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
                raise runtime_error(
                    self.name, f"SecondsPath must point to a non-negative integer, got {json_text(seconds)}"
                )
            return float(seconds)
        stamp = self.timestamp
        if stamp is None and self.timestamp_path is not None:
            stamp = self.timestamp_path(value, run.context(branch, self.name), run.rng, self.name)
        moment = parse_timestamp(stamp)
        if moment is None:
            raise runtime_error(self.name, f"TimestampPath must point to an RFC 3339 timestamp, got {json_text(stamp)}")
        return max(0.0, (moment - run.clock()).total_seconds())

    def run(self, run: Run, branch: Branch, data: Any) -> tuple[str | None, Any]:
        self.enter(run, branch, data)
        value = self.select(self.input_path, data, "InputPath")
        run.sleep(self._delay(run, branch, value), branch)
        output = self.select(self.output_path, value, "OutputPath")
        self.exit(run, branch, output)
        return self.next, output


class Recoverable(State):
    """A state with Retry and Catch (Task, Parallel, Map)."""

    def __init__(
        self,
        name: str,
        *,
        parameters: Evaluator | None,
        result_selector: Evaluator | None,
        result_path: ReferencePath | Literal["$"] | None,
        retry: tuple[Retrier, ...],
        catch: tuple[Catcher, ...],
        **common: Any,
    ):
        super().__init__(name, **common)
        self.parameters = parameters
        self.result_selector = result_selector
        self.result_path = result_path
        self.retry = retry
        self.catch = catch

    def attempt(self, run: Run, branch: Branch, value: Any, retries: int) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def run(self, run: Run, branch: Branch, data: Any) -> tuple[str | None, Any]:
        self.enter(run, branch, data)
        counts = [0] * len(self.retry)
        retries = 0
        while True:
            try:
                value = self.select(self.input_path, data, "InputPath")
                result = self.attempt(run, branch, value, retries)
                if self.result_selector is not None:
                    result = self.result_selector(result, run.context(branch, self.name, retries), run.rng, self.name)
                output = self.select(
                    self.output_path, apply_result_path(self.name, self.result_path, data, result), "OutputPath"
                )
                self.exit(run, branch, output)
                return self.next, output
            except StatesFailure as failure:
                if failure.terminal:
                    raise
                retrier_index = next((i for i, r in enumerate(self.retry) if r.matches(failure.error)), None)
                if retrier_index is not None and counts[retrier_index] < self.retry[retrier_index].max_attempts:
                    retrier = self.retry[retrier_index]
                    run.sleep(retrier.delay(counts[retrier_index], run.rng), branch)
                    counts[retrier_index] += 1
                    retries += 1
                    continue
                catcher = next((c for c in self.catch if c.matches(failure.error)), None)
                if catcher is None:
                    raise
                error_output = {"Error": failure.error, "Cause": failure.cause}
                output = apply_result_path(self.name, catcher.result_path, data, error_output)
                self.exit(run, branch, output)
                return catcher.next, output


def resource_type_and_name(resource: str) -> tuple[str, str]:
    """How the history names a resource: `aws-sdk:rekognition` + `detectLabels`, `sqs` + `sendMessage`."""
    if resource.startswith("arn:aws:states:::"):
        integration = resource[len("arn:aws:states:::") :]
        kind, _, action = integration.rpartition(":")
        return kind, action
    parts = resource.split(":")
    return (parts[2] if len(parts) > 2 else "unknown"), resource


class Task(Recoverable):
    """Calls the adapter registered for `Resource`.

    Adapters are plain calls and cannot send heartbeats, so HeartbeatSeconds acts as a second,
    shorter deadline (its error is States.HeartbeatTimeout).
    """

    type = "Task"

    def __init__(
        self,
        name: str,
        *,
        resource: str,
        timeout: int | None,
        heartbeat: int | None,
        timeout_path: Evaluator | None,
        heartbeat_path: Evaluator | None,
        **kwargs: Any,
    ):
        super().__init__(name, **kwargs)
        self.resource = resource
        self.resource_type, self.resource_name = resource_type_and_name(resource)
        self.timeout = timeout
        self.heartbeat = heartbeat
        self.timeout_path = timeout_path
        self.heartbeat_path = heartbeat_path

    def _seconds(self, run: Run, value: Any, fixed: int | None, path: Evaluator | None, field: str) -> int | None:
        if path is None:
            return fixed
        seconds = path(value, dict, run.rng, self.name)
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds <= 0:
            raise runtime_error(self.name, f"{field} must point to a positive integer, got {json_text(seconds)}")
        return seconds

    def attempt(self, run: Run, branch: Branch, value: Any, retries: int) -> Any:
        parameters = (
            value
            if self.parameters is None
            else self.parameters(value, run.context(branch, self.name, retries), run.rng, self.name)
        )
        parameters_text = check_size(json_text(parameters), self.name, "input (after Parameters)")
        timeout = self._seconds(run, value, self.timeout, self.timeout_path, "TimeoutSecondsPath")
        heartbeat = self._seconds(run, value, self.heartbeat, self.heartbeat_path, "HeartbeatSecondsPath")
        adapter = run.registry.get(self.resource)
        scheduled: dict[str, Any] = {
            "resourceType": self.resource_type,
            "resource": self.resource_name,
            "region": run.region,
            "parameters": parameters_text,
        }
        if timeout is not None:
            scheduled["timeoutInSeconds"] = timeout
        if heartbeat is not None:
            scheduled["heartbeatInSeconds"] = heartbeat
        history = run.history
        branch.previous = history.add("TaskScheduled", scheduled, branch.previous)
        branch.previous = history.add(
            "TaskStarted", {"resourceType": self.resource_type, "resource": self.resource_name}, branch.previous
        )

        # The deadline the call runs under: the tighter of heartbeat, timeout and the execution's own.
        limit, error = timeout, TIMEOUT
        if heartbeat is not None and (limit is None or heartbeat < limit):
            limit, error = heartbeat, HEARTBEAT_TIMEOUT
        remaining = run.remaining()
        execution_limit = remaining is not None and (limit is None or remaining < limit)
        try:
            # The adapter gets its own copy of the parameters (parsed from the recorded text), so
            # nothing it does can change the execution's data.
            deadline = remaining if execution_limit else limit
            if deadline is not None and run.registry.is_inline(self.resource):
                began = monotonic()
                result = adapter(_loads(parameters_text))
                if monotonic() - began > deadline:
                    raise TaskDeadlineExceeded(f"the task answered after its deadline of {deadline:g} s")
            else:
                result = run.runner.call(adapter, _loads(parameters_text), deadline)
        except TaskDeadlineExceeded:
            if execution_limit:
                run.check(branch)  # raises ExecutionTimedOut
            setting = "HeartbeatSeconds" if error == HEARTBEAT_TIMEOUT else "TimeoutSeconds"
            cause = f"The task did not finish within {limit} seconds ({setting})."
            branch.previous = history.add(
                "TaskTimedOut",
                {"resourceType": self.resource_type, "resource": self.resource_name, "error": error, "cause": cause},
                branch.previous,
            )
            raise StatesFailure(error, cause) from None
        except ServiceError as exc:
            self._failed(run, branch, exc.error_name, exc.message)
        except Exception as exc:  # noqa: BLE001 - any other adapter error fails the task, as a Lambda error would
            self._failed(run, branch, TASK_FAILED, f"{type(exc).__name__}: {exc}")
        try:
            result_text = json_text(result)
        except (TypeError, ValueError) as exc:
            self._failed(run, branch, TASK_FAILED, f"The task returned a result that is not JSON: {exc}")
        check_size(result_text, self.name, "task result")
        branch.previous = history.add(
            "TaskSucceeded",
            {
                "resourceType": self.resource_type,
                "resource": self.resource_name,
                "output": result_text,
                "outputDetails": {"truncated": False},
            },
            branch.previous,
        )
        return _loads(result_text)

    def _failed(self, run: Run, branch: Branch, error: str, cause: str) -> None:
        branch.previous = run.history.add(
            "TaskFailed",
            {"resourceType": self.resource_type, "resource": self.resource_name, "error": error, "cause": cause},
            branch.previous,
        )
        raise StatesFailure(error, cause, terminal=False)


_loads = json.loads


def run_concurrently(run: Run, branch: Branch, jobs: Sequence[Callable[[Branch], Any]], limit: int) -> list[Any]:
    """Runs branch jobs (at most `limit` at once, 0 = all) and returns their results in order.

    The first failure cancels the other branches at their next state transition and is re-raised.
    At most 32 branches run at once even when MaxConcurrency is 0 (unlimited): iterations are
    threads of this process, not separate workers.
    """
    if not jobs:
        return []
    children = [branch.child() for _ in jobs]
    if len(jobs) == 1:
        return [jobs[0](children[0])]
    workers = min(len(jobs), limit or len(jobs), 32)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="workflow-branch") as pool:
        futures = [pool.submit(job, child) for job, child in zip(jobs, children, strict=True)]
        wait(futures, return_when=FIRST_EXCEPTION)
        failed = [error for error in (f.exception() for f in futures if f.done()) if error is not None]
        if failed:
            for child in children:
                child.cancel()
            wait(futures)
            errors = [f.exception() for f in futures]
            raise next((e for e in errors if e is not None and not isinstance(e, ExecutionCancelled)), failed[0])
    branch.previous = max(child.previous for child in children)
    return [f.result() for f in futures]


class Parallel(Recoverable):
    type = "Parallel"

    def __init__(self, name: str, *, branches: list[Graph], **kwargs: Any):
        super().__init__(name, **kwargs)
        self.branches = branches

    def attempt(self, run: Run, branch: Branch, value: Any, retries: int) -> Any:
        if self.parameters is not None:
            value = self.parameters(value, run.context(branch, self.name, retries), run.rng, self.name)
        branch.previous = run.history.add("ParallelStateStarted", None, branch.previous)
        jobs = [partial(graph.run, run, value) for graph in self.branches]
        try:
            results = run_concurrently(run, branch, jobs, 0)
        except StatesFailure:
            branch.previous = run.history.add("ParallelStateFailed", None, branch.previous)
            raise
        branch.previous = run.history.add("ParallelStateSucceeded", None, branch.previous)
        return results


class Map(Recoverable):
    type = "Map"

    def __init__(
        self,
        name: str,
        *,
        processor: Graph,
        items_path: JsonPath | Literal["$"],
        item_selector: Evaluator | None,
        max_concurrency: int,
        **kwargs: Any,
    ):
        super().__init__(name, **kwargs)
        self.processor = processor
        self.items_path = items_path
        self.item_selector = item_selector
        self.max_concurrency = max_concurrency

    def attempt(self, run: Run, branch: Branch, value: Any, retries: int) -> Any:
        items = self.select(self.items_path, value, "ItemsPath")
        if not isinstance(items, list):
            raise runtime_error(self.name, f"ItemsPath must point to an array, got {json_text(items)}")
        history = run.history
        branch.previous = history.add("MapStateStarted", {"length": len(items)}, branch.previous)

        def iteration(index: int, item: Any) -> Callable[[Branch], Any]:
            def job(child: Branch) -> Any:
                if self.item_selector is not None:
                    context = run.context(branch, self.name, retries, map_item={"Index": index, "Value": item})
                    item_input = self.item_selector(value, context, run.rng, self.name)
                else:
                    item_input = item
                child.previous = history.add("MapIterationStarted", {"name": self.name, "index": index}, child.previous)
                try:
                    output = self.processor.run(run, item_input, child)
                except StatesFailure:
                    child.previous = history.add(
                        "MapIterationFailed", {"name": self.name, "index": index}, child.previous
                    )
                    raise
                child.previous = history.add(
                    "MapIterationSucceeded", {"name": self.name, "index": index}, child.previous
                )
                return output

            return job

        try:
            results = run_concurrently(
                run, branch, [iteration(i, item) for i, item in enumerate(items)], self.max_concurrency
            )
        except StatesFailure:
            branch.previous = history.add("MapStateFailed", None, branch.previous)
            raise
        branch.previous = history.add("MapStateSucceeded", None, branch.previous)
        return results
