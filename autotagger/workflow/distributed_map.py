"""Distributed Map: item reader, batches, child workflow executions, tolerated failures, results, Map Run.

A Map state whose ItemProcessor has `ProcessorConfig.Mode` DISTRIBUTED runs each item (or batch
of items) as a *child workflow execution* of its own: its own history, recorded through the
parent's execution listener with `parent_arn` and `map_run_arn`, as Step Functions shows them
(https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html). What this module
implements, field by field (ASL: https://states-language.net/ and the Step Functions guide pages
cited at each class):

* ItemReader `arn:aws:states:::s3:listObjectsV2`: pages of the resource's adapter (ListObjectsV2
  responses, followed by ContinuationToken) become items shaped as Step Functions gives them,
  `{"Etag", "Key", "LastModified" (epoch seconds), "Size", "StorageClass"}`; keys ending in "/" are
  folders and skipped. `ReaderConfig.MaxItems`/`MaxItemsPath` cap the items. Other readers (JSON, CSV
  or manifest files) are refused at load.
* ItemSelector with `$$.Map.Item.Index`/`Value`, then ItemBatcher (`MaxItemsPerBatch`[Path],
  `MaxInputBytesPerBatch`[Path], `BatchInput`): a child gets `{"Items": [...], "BatchInput": {...}}`.
* MaxConcurrency[Path]: child executions at once (0: unbounded); this process runs at most
  `MAX_THREADS` of them, which is within the limit the definition sets.
* ToleratedFailurePercentage[Path] / ToleratedFailureCount[Path]: counted in items (a failed batch
  fails all its items, as on AWS); when exceeded no further child starts and the state fails with
  States.ExceedToleratedFailureThreshold. Children already running finish (AWS aborts them).
* ResultWriter `arn:aws:states:::s3:putObject`: `<Prefix>/<map run id>/manifest.json` and
  `SUCCEEDED_0.json`, `FAILED_0.json`, `PENDING_0.json` through the resource's adapter (a PutObject);
  the state's output is then `{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}`.
* The Map Run: a DescribeMapRun-shaped record with item and execution counts by status, given to
  the listener's optional `on_map_run(record)` as it changes.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from autotagger.errors import ServiceError

from .failures import DefinitionError, StatesFailure, runtime_error
from .history import Execution, iso_millis
from .interpreter import LOCAL_ROLE, Branch, Run, begin_execution, execute, execution_context
from .intrinsics import json_text
from .paths import JsonPath
from .states import Graph, Recoverable
from .templates import Evaluator, compile_dynamic, compile_template

LIST_OBJECTS_V2 = "arn:aws:states:::s3:listObjectsV2"
PUT_OBJECT = "arn:aws:states:::s3:putObject"
ITEM_READER_FAILED = "States.ItemReaderFailed"
RESULT_WRITER_FAILED = "States.ResultWriterFailed"
EXCEED_TOLERATED = "States.ExceedToleratedFailureThreshold"
MAX_THREADS = 32
"""Child executions this process runs at once, whatever MaxConcurrency allows (they are threads)."""

MAX_BATCH_BYTES = 262_144
"""MaxInputBytesPerBatch may be at most 256 KiB, the payload quota of a child execution's input."""

# The fields only a distributed Map has (definition.py refuses them on an inline Map).
DISTRIBUTED_FIELDS = frozenset({
    "ItemReader", "ItemBatcher", "ResultWriter", "Label", "MaxConcurrencyPath", "ToleratedFailurePercentage",
    "ToleratedFailurePercentagePath", "ToleratedFailureCount", "ToleratedFailureCountPath",
})
_STATUSES = ("pending", "running", "succeeded", "failed", "timedOut", "aborted")


def _where(state: str, field: str) -> str:
    return f"state '{state}' field {field}"


@dataclass(frozen=True)
class Setting:
    """A number given either directly (`Field`) or by a reference path (`FieldPath`)."""

    field: str
    value: float | None
    path: Evaluator | None
    integer: bool
    maximum: float | None

    def resolve(self, run: Run, branch: Branch, data: Any, state: str) -> float | None:
        if self.path is None:
            return self.value
        value = self.path(data, run.context(branch, state), run.rng, state)
        if not _valid_number(value, self.integer, self.maximum):
            raise runtime_error(state, f"{self.field}Path must point to {_describe(self.integer, self.maximum)}, "
                                       f"got {json_text(value)}")
        return float(value)


def _valid_number(value: Any, integer: bool, maximum: float | None) -> bool:
    if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
        return False
    return bool(value >= 0 and (maximum is None or value <= maximum))


def _describe(integer: bool, maximum: float | None) -> str:
    kind = "a non-negative integer" if integer else "a non-negative number"
    return kind + (f" of at most {maximum:g}" if maximum is not None else "")


def compile_setting(spec: dict[str, Any], field: str, where: str, *, integer: bool = True,
                    maximum: float | None = None) -> Setting | None:
    """`Field` or `FieldPath` of `spec` (None when neither is given; both is an error)."""
    path_field = field + "Path"
    if field in spec and path_field in spec:
        raise DefinitionError(f"{where}: {field} and {path_field} are mutually exclusive")
    if field in spec:
        if not _valid_number(spec[field], integer, maximum):
            raise DefinitionError(
                f"{where} {field}: must be {_describe(integer, maximum)}, got {json_text(spec[field])}"
            )
        return Setting(field, float(spec[field]), None, integer, maximum)
    if path_field in spec:
        return Setting(field, None, compile_dynamic(spec[path_field], f"{where} {path_field}", intrinsics=False),
                       integer, maximum)
    return None


def _object(spec: Any, where: str, allowed: set[str], refused: dict[str, str] | None = None) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise DefinitionError(f"{where}: must be an object")
    for key in spec:
        if refused and key in refused:
            raise DefinitionError(f"{where}.{key}: not supported by the local engine ({refused[key]})")
        if key not in allowed:
            raise DefinitionError(f"{where}.{key}: unknown field")
    return spec


@dataclass(frozen=True)
class ItemReader:
    resource: str
    parameters: Evaluator | None
    max_items: Setting | None


def compile_item_reader(spec: Any, name: str) -> ItemReader:
    """https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html"""
    where = _where(name, "ItemReader")
    spec = _object(spec, where, {"Resource", "Parameters", "ReaderConfig"})
    if spec.get("Resource") != LIST_OBJECTS_V2:
        raise DefinitionError(f"{where}.Resource: not supported by the local engine: {json_text(spec.get('Resource'))} "
                              f"(it reads S3 listings, {LIST_OBJECTS_V2}; JSON, CSV and manifest files are not)")
    config = _object(spec.get("ReaderConfig", {}), f"{where}.ReaderConfig", {"MaxItems", "MaxItemsPath"},
                     dict.fromkeys(("InputType", "CSVHeaderLocation", "CSVHeaders", "CSVDelimiter", "ManifestType",
                                    "ItemsPointer"), "only the listObjectsV2 reader is supported"))
    parameters = compile_template(spec["Parameters"], f"{where}.Parameters") if "Parameters" in spec else None
    return ItemReader(LIST_OBJECTS_V2, parameters,
                      compile_setting(config, "MaxItems", f"{where}.ReaderConfig", maximum=100_000_000))


@dataclass(frozen=True)
class ItemBatcher:
    max_items: Setting | None
    max_bytes: Setting | None
    batch_input: Evaluator | None


def compile_item_batcher(spec: Any, name: str) -> ItemBatcher:
    """https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itembatcher.html"""
    where = _where(name, "ItemBatcher")
    spec = _object(spec, where, {"MaxItemsPerBatch", "MaxItemsPerBatchPath", "MaxInputBytesPerBatch",
                                 "MaxInputBytesPerBatchPath", "BatchInput"})
    batcher = ItemBatcher(compile_setting(spec, "MaxItemsPerBatch", where),
                          compile_setting(spec, "MaxInputBytesPerBatch", where, maximum=MAX_BATCH_BYTES),
                          compile_template(spec["BatchInput"], f"{where}.BatchInput") if "BatchInput" in spec else None)
    if batcher.max_items is None and batcher.max_bytes is None:
        raise DefinitionError(f"{where}: needs MaxItemsPerBatch or MaxInputBytesPerBatch (or their Path forms)")
    return batcher


@dataclass(frozen=True)
class ResultWriter:
    resource: str
    parameters: Evaluator


def compile_result_writer(spec: Any, name: str) -> ResultWriter:
    """https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html"""
    where = _where(name, "ResultWriter")
    spec = _object(spec, where, {"Resource", "Parameters"},
                   {"WriterConfig": "results are written untransformed, as JSON"})
    if spec.get("Resource") != PUT_OBJECT:
        raise DefinitionError(f"{where}.Resource: must be {PUT_OBJECT}, got {json_text(spec.get('Resource'))}")
    if not isinstance(spec.get("Parameters"), dict):
        raise DefinitionError(f"{where}.Parameters: must be an object with Bucket and Prefix")
    return ResultWriter(PUT_OBJECT, compile_template(spec["Parameters"], f"{where}.Parameters"))


def compile_processor_config(config: Any, name: str) -> None:
    where = _where(name, "ItemProcessor.ProcessorConfig")
    config = _object(config, where, {"Mode", "ExecutionType"})
    if config.get("ExecutionType") not in ("STANDARD", "EXPRESS"):
        raise DefinitionError(f"{where}.ExecutionType: a distributed Map needs STANDARD or EXPRESS, "
                              f"got {json_text(config.get('ExecutionType'))}")


def _epoch_seconds(value: Any) -> Any:
    """ListObjectsV2's LastModified (a datetime from boto3, ISO text from a stand-in) as Step Functions
    gives it in listObjectsV2 items: whole seconds since the epoch."""
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, str):
        try:
            return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
        except ValueError:
            return value
    return value


def listing_item(entry: dict[str, Any]) -> dict[str, Any]:
    """One ListObjectsV2 `Contents` entry as a distributed Map item; fields a stand-in listing adds
    beyond S3's are kept as they are."""
    item = {"Etag": entry.get("ETag"), "Key": entry.get("Key"),
            "LastModified": _epoch_seconds(entry.get("LastModified")), "Size": entry.get("Size"),
            "StorageClass": entry.get("StorageClass", "STANDARD")}
    item.update({k: v for k, v in entry.items() if k not in ("ETag", "Key", "LastModified", "Size", "StorageClass")})
    return item


class MapRun:
    """Counts by status of one Map Run, shaped like DescribeMapRun."""

    def __init__(self, arn: str, execution_arn: str, started: datetime, max_concurrency: int,
                 tolerated_percentage: float | None, tolerated_count: float | None, total_items: int, batches: int):
        self.arn = arn
        self.execution_arn = execution_arn
        self.status = "RUNNING"
        self.start_date = started
        self.stop_date: datetime | None = None
        self.max_concurrency = max_concurrency
        self.tolerated_percentage = tolerated_percentage
        self.tolerated_count = tolerated_count
        self.items = dict.fromkeys(_STATUSES, 0) | {"pending": total_items, "total": total_items, "resultsWritten": 0}
        self.executions = dict.fromkeys(_STATUSES, 0) | {"pending": batches, "total": batches, "resultsWritten": 0}
        self.failed_children: list[str] = []

    def started(self, items: int) -> None:
        self._move("pending", "running", items)

    def finished(self, items: int, status: str, execution_arn: str) -> None:
        target = {"SUCCEEDED": "succeeded", "TIMED_OUT": "timedOut", "ABORTED": "aborted"}.get(status, "failed")
        self._move("running", target, items)
        if target != "succeeded":
            self.failed_children.append(execution_arn)

    def _move(self, source: str, target: str, items: int) -> None:
        self.items[source] -= items
        self.items[target] += items
        self.executions[source] -= 1
        self.executions[target] += 1

    def exceeded(self) -> bool:
        """More items failed than tolerated: by percentage of all items or by count, whichever is set
        (either exceeded when both are); with neither, one failed item is too many."""
        failed = self.items["failed"] + self.items["timedOut"] + self.items["aborted"]
        if self.tolerated_count is None and self.tolerated_percentage is None:
            return failed > 0
        if self.tolerated_count is not None and failed > self.tolerated_count:
            return True
        total = self.items["total"]
        return bool(self.tolerated_percentage is not None and total
                    and failed * 100.0 / total > self.tolerated_percentage)

    def record(self) -> dict[str, Any]:
        return {
            "mapRunArn": self.arn, "executionArn": self.execution_arn, "status": self.status,
            "startDate": iso_millis(self.start_date),
            "stopDate": iso_millis(self.stop_date) if self.stop_date else None,
            "maxConcurrency": self.max_concurrency, "toleratedFailurePercentage": self.tolerated_percentage or 0.0,
            "toleratedFailureCount": int(self.tolerated_count) if self.tolerated_count is not None else 0,
            "itemCounts": dict(self.items), "executionCounts": dict(self.executions),
            "failedExecutions": list(self.failed_children),
        }


@dataclass
class _Batch:
    index: int
    items: int
    input: Any
    execution: Execution | None = None


def _arn_parts(state_machine_arn: str) -> tuple[str, str, str]:
    """(region, account, name) of `arn:aws:states:<region>:<account>:stateMachine:<name>`."""
    parts = state_machine_arn.split(":")
    return parts[3], parts[4], parts[6] if len(parts) > 6 else parts[-1]


class DistributedMap(Recoverable):
    type = "Map"

    def __init__(self, name: str, *, processor: Graph, items_path: JsonPath | Literal["$"],
                 item_selector: Evaluator | None, max_concurrency: Setting, reader: ItemReader | None,
                 batcher: ItemBatcher | None, writer: ResultWriter | None, tolerated_percentage: Setting | None,
                 tolerated_count: Setting | None, label: str | None, **kwargs: Any):
        super().__init__(name, **kwargs)
        self.processor = processor
        self.items_path = items_path
        self.item_selector = item_selector
        self.max_concurrency = max_concurrency
        self.reader = reader
        self.batcher = batcher
        self.writer = writer
        self.tolerated_percentage = tolerated_percentage
        self.tolerated_count = tolerated_count
        self.label = label or name

    def resources(self) -> set[str]:
        return {r.resource for r in (self.reader, self.writer) if r is not None}

    # -- items
    def _read(self, run: Run, branch: Branch, value: Any, retries: int) -> list[Any]:
        if self.reader is None:
            given = self.select(self.items_path, value, "ItemsPath")
            if not isinstance(given, list):
                raise runtime_error(self.name, f"ItemsPath must point to an array, got {json_text(given)}")
            return given
        parameters = ({} if self.reader.parameters is None
                      else self.reader.parameters(value, run.context(branch, self.name, retries), run.rng, self.name))
        limit = self.reader.max_items.resolve(run, branch, value, self.name) if self.reader.max_items else None
        adapter = run.registry.get(self.reader.resource)
        items: list[Any] = []
        token: str | None = None
        while True:
            request = {**parameters, **({"ContinuationToken": token} if token else {})}
            try:
                page = adapter(request)
            except ServiceError as exc:
                raise StatesFailure(ITEM_READER_FAILED, f"{exc.error_name}: {exc.message}") from None
            except Exception as exc:  # noqa: BLE001 - any reader failure is the state's ItemReaderFailed
                raise StatesFailure(ITEM_READER_FAILED, f"{type(exc).__name__}: {exc}") from None
            items += [listing_item(entry) for entry in page.get("Contents", []) if not entry["Key"].endswith("/")]
            token = page.get("NextContinuationToken") if page.get("IsTruncated") else None
            if token is None or (limit and len(items) >= limit):
                break
        return items[: int(limit)] if limit else items

    def _batches(self, run: Run, branch: Branch, value: Any, retries: int, items: list[Any]) -> list[_Batch]:
        if self.item_selector is not None:
            selector = self.item_selector
            items = [selector(value, run.context(branch, self.name, retries, map_item={"Index": i, "Value": item}),
                              run.rng, self.name) for i, item in enumerate(items)]
        if self.batcher is None:
            return [_Batch(i, 1, item) for i, item in enumerate(items)]
        batcher = self.batcher
        max_items = batcher.max_items.resolve(run, branch, value, self.name) if batcher.max_items else None
        max_bytes = batcher.max_bytes.resolve(run, branch, value, self.name) if batcher.max_bytes else None
        batch_input = (None if batcher.batch_input is None
                       else batcher.batch_input(value, run.context(branch, self.name, retries), run.rng, self.name))
        envelope = len(json_text({"Items": [], **({"BatchInput": batch_input} if batch_input is not None else {})}))
        batches: list[_Batch] = []
        current: list[Any] = []
        size = envelope

        def close() -> None:
            body: dict[str, Any] = {"Items": list(current)}
            if batch_input is not None:
                body["BatchInput"] = batch_input
            batches.append(_Batch(len(batches), len(current), body))

        for item in items:
            item_bytes = len(json_text(item)) + (1 if current else 0)
            if max_bytes and envelope + item_bytes > max_bytes:
                raise runtime_error(self.name, f"An item of {item_bytes} bytes does not fit in a batch of at most "
                                               f"{max_bytes:g} bytes (MaxInputBytesPerBatch)")
            if current and ((max_items and len(current) >= max_items) or (max_bytes and size + item_bytes > max_bytes)):
                close()
                current, size = [], envelope
                item_bytes -= 1
            current.append(item)
            size += item_bytes
        if current:
            close()
        return batches

    # -- children
    def _run_child(self, run: Run, batch: _Batch, map_run: MapRun, listener: Any) -> Execution:
        region, account, machine = _arn_parts(run.state_machine_id)
        name = str(uuid.uuid4())
        child_machine = f"{machine}/{self.label}"
        execution = Execution(
            arn=f"arn:aws:states:{region}:{account}:execution:{child_machine}:{name}", name=name,
            state_machine_arn=f"{run.state_machine_id}/{self.label}", input=batch.input, start_date=run.clock(),
            parent_arn=run.execution_id, map_run_arn=map_run.arn)
        history = begin_execution(execution, listener, run.clock, json_text(batch.input), LOCAL_ROLE)
        child = run.for_child(history, execution_context(execution, LOCAL_ROLE),
                              {"Id": execution.state_machine_arn, "Name": child_machine})
        execute(execution, child, self.processor.run, batch.input)
        return execution

    def attempt(self, run: Run, branch: Branch, value: Any, retries: int) -> Any:
        if self.parameters is not None:  # legacy Parameters are the ItemSelector (definition.py moves them)
            value = self.parameters(value, run.context(branch, self.name, retries), run.rng, self.name)
        history = run.history
        listener = history.listener
        items = self._read(run, branch, value, retries)
        batches = self._batches(run, branch, value, retries, items)
        concurrency = int(self.max_concurrency.resolve(run, branch, value, self.name) or 0)
        percentage = (self.tolerated_percentage.resolve(run, branch, value, self.name)
                      if self.tolerated_percentage else None)
        count = self.tolerated_count.resolve(run, branch, value, self.name) if self.tolerated_count else None
        region, account, machine = _arn_parts(run.state_machine_id)
        map_run_id = str(uuid.uuid4())
        map_run = MapRun(f"arn:aws:states:{region}:{account}:mapRun:{machine}/{self.label}:{map_run_id}",
                         run.execution_id, run.clock(), concurrency, percentage, count, len(items),
                         len(batches))
        report: Callable[[dict[str, Any]], None] | None = getattr(listener, "on_map_run", None)
        branch.previous = history.add("MapStateStarted", {"length": len(items)}, branch.previous)
        branch.previous = history.add("MapRunStarted", {"mapRunArn": map_run.arn}, branch.previous)
        if report:
            report(map_run.record())
        self._run_batches(run, branch, batches, map_run, concurrency, listener, report)
        exceeded = map_run.exceeded()
        map_run.stop_date = run.clock()
        map_run.status = "FAILED" if exceeded else "SUCCEEDED"
        try:
            output = self._write_results(run, branch, value, retries, batches, map_run_id, map_run)
        except StatesFailure as failure:
            map_run.status = "FAILED"
            self._ended(run, branch, map_run, report, failure)
            raise
        if exceeded:
            threshold = StatesFailure(EXCEED_TOLERATED, "The specified tolerated failure threshold was exceeded")
            self._ended(run, branch, map_run, report, threshold)
            raise threshold
        self._ended(run, branch, map_run, report, None)
        return output

    def _run_batches(self, run: Run, branch: Branch, batches: list[_Batch], map_run: MapRun, concurrency: int,
                     listener: Any, report: Callable[[dict[str, Any]], None] | None) -> None:
        if not batches:
            return
        workers = min(concurrency or len(batches), len(batches), MAX_THREADS)
        waiting = deque(batches)
        running: dict[Future[Execution], _Batch] = {}
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="map-run") as pool:
            while running or (waiting and not map_run.exceeded() and not branch.cancelled):
                while waiting and len(running) < workers and not map_run.exceeded() and not branch.cancelled:
                    batch = waiting.popleft()
                    map_run.started(batch.items)
                    running[pool.submit(self._run_child, run, batch, map_run, listener)] = batch
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    batch = running.pop(future)
                    batch.execution = future.result()
                    map_run.finished(batch.items, batch.execution.status, batch.execution.arn)
                if report:
                    report(map_run.record())
        run.check(branch)

    def _ended(self, run: Run, branch: Branch, map_run: MapRun, report: Callable[[dict[str, Any]], None] | None,
               failure: StatesFailure | None) -> None:
        history = run.history
        if failure is None:
            branch.previous = history.add("MapRunSucceeded", None, branch.previous)
            branch.previous = history.add("MapStateSucceeded", None, branch.previous)
        else:
            branch.previous = history.add("MapRunFailed", {"error": failure.error, "cause": failure.cause},
                                          branch.previous)
            branch.previous = history.add("MapStateFailed", None, branch.previous)
        if report:
            report(map_run.record())

    # -- results
    @staticmethod
    def _entry(batch: _Batch) -> dict[str, Any]:
        execution = batch.execution
        if execution is None:  # never started
            return {"Input": json_text(batch.input), "InputDetails": {"Included": True}}
        entry: dict[str, Any] = {
            "ExecutionArn": execution.arn, "Input": json_text(execution.input), "InputDetails": {"Included": True},
            "Name": execution.name, "StartDate": iso_millis(execution.start_date),
            "StateMachineArn": execution.state_machine_arn, "Status": execution.status,
            "StopDate": iso_millis(execution.stop_date or datetime.now(UTC)),
        }
        if execution.status == "SUCCEEDED":
            entry |= {"Output": json_text(execution.output), "OutputDetails": {"Included": True}}
        else:
            entry |= {"Error": execution.error, "Cause": execution.cause}
        return entry

    def _write_results(self, run: Run, branch: Branch, value: Any, retries: int, batches: list[_Batch],
                       map_run_id: str, map_run: MapRun) -> Any:
        if self.writer is None:
            return [b.execution.output if b.execution and b.execution.status == "SUCCEEDED" else
                    {"Error": b.execution.error, "Cause": b.execution.cause} if b.execution else None
                    for b in batches]
        target = self.writer.parameters(value, run.context(branch, self.name, retries), run.rng, self.name)
        bucket, prefix = target.get("Bucket"), str(target.get("Prefix", "")).strip("/")
        if not isinstance(bucket, str) or not bucket:
            raise runtime_error(self.name,
                                f"ResultWriter.Parameters.Bucket must be a bucket name, got {json_text(bucket)}")
        base = f"{prefix}/{map_run_id}" if prefix else map_run_id
        groups: dict[str, list[dict[str, Any]]] = {"SUCCEEDED": [], "FAILED": [], "PENDING": []}
        for batch in batches:
            status = "PENDING" if batch.execution is None else (
                "SUCCEEDED" if batch.execution.status == "SUCCEEDED" else "FAILED")
            groups[status].append(self._entry(batch))
        adapter = run.registry.get(self.writer.resource)
        files: dict[str, list[dict[str, Any]]] = {}

        def put(key: str, body: str) -> int:
            try:
                adapter({"Bucket": bucket, "Key": key, "Body": body})
            except Exception as exc:  # noqa: BLE001 - any write failure is the state's ResultWriterFailed
                detail = (f"{exc.error_name}: {exc.message}" if isinstance(exc, ServiceError)
                          else f"{type(exc).__name__}: {exc}")
                raise StatesFailure(RESULT_WRITER_FAILED, f"could not write s3://{bucket}/{key}: {detail}") from None
            return len(body.encode("utf-8"))

        for status, entries in groups.items():
            files[status] = []
            if entries:
                key = f"{base}/{status}_0.json"
                files[status].append({"Key": key, "Size": put(key, json_text(entries))})
        map_run.items["resultsWritten"] = sum(b.items for b in batches)
        map_run.executions["resultsWritten"] = len(batches)
        manifest_key = f"{base}/manifest.json"
        put(manifest_key, json_text({"DestinationBucket": bucket, "MapRunArn": map_run.arn, "ResultFiles": files}))
        return {"MapRunArn": map_run.arn, "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key}}
