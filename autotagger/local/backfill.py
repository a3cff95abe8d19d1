"""The backfill (statemachine/backfill.asl.json) on the local stand-ins.

The workflow engine knows nothing of the local bucket: the Distributed Map's item reader, its
result writer and the `startExecution.sync:2` task are resolved by resource ARN like any task, and
this module gives the local adapters behind them:

| resource ARN | local adapter does |
|---|---|
| `arn:aws:states:::s3:listObjectsV2` | ListObjectsV2 pages of the image bucket (1,000 keys a page) |
| `arn:aws:states:::s3:putObject` | writes the Map Run's results into the local results bucket |
| `arn:aws:states:::states:startExecution.sync:2` | runs the tagging workflow as a child execution, answers |
|   | DescribeExecution with its output as JSON |

The listing has S3's fields only: no sequencer, although the local bucket keeps one, so the local
backfill's records are re-tags decided by the indexer exactly as on AWS (contracts.RETAG_SEQUENCER,
README "Re-tag everything").
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from autotagger.contracts import (
    BACKFILL_ASL_FILE,
    BACKFILL_RESULTS_BUCKET,
    BACKFILL_STATE_MACHINE_NAME,
    backfill_max_concurrency,
    backfill_substitutions,
)
from autotagger.errors import ServiceError
from autotagger.ports import ObjectStore

LIST_OBJECTS_V2_ARN = "arn:aws:states:::s3:listObjectsV2"
PUT_OBJECT_ARN = "arn:aws:states:::s3:putObject"
START_EXECUTION_SYNC_ARN = "arn:aws:states:::states:startExecution.sync:2"
STARTED_BY = "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"
"""The input field with which a parent execution names itself to its child (Step Functions' own
convention for nested executions, which links them in the console)."""

PAGE_SIZE = 1000  # ListObjectsV2's MaxKeys default and maximum


def list_objects_adapter(bucket: ObjectStore) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """S3 ListObjectsV2 over the local bucket: `Prefix`, `MaxKeys`, `ContinuationToken`/`StartAfter`."""

    def list_objects_v2(parameters: dict[str, Any]) -> dict[str, Any]:
        if parameters.get("Bucket") != bucket.name:
            raise ServiceError(f"The specified bucket does not exist: {parameters.get('Bucket')!r}", service="S3",
                               code="NoSuchBucket")
        prefix = parameters.get("Prefix") or ""
        if not isinstance(prefix, str):
            raise ServiceError("Prefix must be a string", service="S3", code="InvalidArgument")
        size = min(int(parameters.get("MaxKeys") or PAGE_SIZE), PAGE_SIZE)
        after = parameters.get("ContinuationToken") or parameters.get("StartAfter") or ""
        found = [o for o in bucket.list(prefix) if not after or o.key > after]
        page = found[:size]
        response: dict[str, Any] = {
            "Name": bucket.name, "Prefix": prefix, "KeyCount": len(page), "MaxKeys": size,
            "IsTruncated": len(found) > size,
            "Contents": [{"Key": o.key, "ETag": f'"{o.etag}"', "LastModified": o.last_modified, "Size": o.size,
                          "StorageClass": "STANDARD"} for o in page],
        }
        if response["IsTruncated"]:
            response["NextContinuationToken"] = page[-1].key
        return response

    return list_objects_v2


def put_object_adapter(bucket: ObjectStore) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """S3 PutObject of a text `Body` into `bucket` (the results bucket)."""

    def put_object(parameters: dict[str, Any]) -> dict[str, Any]:
        if parameters.get("Bucket") != bucket.name:
            raise ServiceError(f"The specified bucket does not exist: {parameters.get('Bucket')!r}", service="S3",
                               code="NoSuchBucket")
        body = parameters.get("Body")
        data = body.encode("utf-8") if isinstance(body, str) else body
        if not isinstance(data, bytes):
            raise ServiceError("Body must be text or bytes", service="S3", code="InvalidArgument")
        stored = bucket.put(str(parameters.get("Key")), data, "application/json")
        return {"ETag": f'"{stored.etag}"'}

    return put_object


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def start_execution_sync_adapter(state_machine: Any, registry: Any, executions: Any, *,
                                 sleeper: Any = None) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Step Functions StartExecution, then wait for the end (`.sync:2`), on the local engine.

    A name already used raises StepFunctions.ExecutionAlreadyExists, as Step Functions
    does for a name seen within 90 days; a child the local runtime's crash left ABORTED runs again
    as `<name>-r<n>` (the recovery's naming), so a crash never makes the backfill skip an object.
    A child that does not succeed fails the task with States.TaskFailed and the DescribeExecution
    answer as its cause, as .sync does
    (https://docs.aws.amazon.com/step-functions/latest/dg/connect-stepfunctions.html).
    """
    names = threading.Lock()
    starting: set[str] = set()  # names being run now (the store has them too once they started)

    def describe(execution: Any) -> dict[str, Any]:
        answer = {"ExecutionArn": execution.arn, "Name": execution.name, "StateMachineArn": execution.state_machine_arn,
                  "Status": execution.status, "StartDate": _iso(execution.start_date),
                  "StopDate": _iso(execution.stop_date), "Input": execution.input,
                  "InputDetails": {"Included": True}}
        if execution.status == "SUCCEEDED":
            answer |= {"Output": execution.output, "OutputDetails": {"Included": True}}
        else:
            answer |= {"Error": execution.error, "Cause": execution.cause}
        return answer

    def start_execution_sync(parameters: dict[str, Any]) -> dict[str, Any]:
        if parameters.get("StateMachineArn") != state_machine.arn:
            raise ServiceError(f"State Machine Does Not Exist: '{parameters.get('StateMachineArn')}'",
                               service="StepFunctions", code="StateMachineDoesNotExist")
        name = parameters.get("Name")
        event = parameters.get("Input")
        if isinstance(event, str):
            event = json.loads(event)
        if not isinstance(name, str):
            raise ServiceError("Name must be a string", service="StepFunctions", code="InvalidName")
        with names:  # two batches never start the same name twice
            run_as = name
            for attempt in range(1, 100):
                found = executions.get(_arn(state_machine, run_as))
                if found is None and run_as not in starting:
                    break
                if found is None or found["status"] != "ABORTED":
                    raise ServiceError(f"Execution Already Exists: '{_arn(state_machine, name)}'",
                                       service="StepFunctions", code="ExecutionAlreadyExists")
                run_as = f"{name}-r{attempt}"
            starting.add(run_as)
        try:
            execution = state_machine.run(event, registry, execution_name=run_as, listener=_Parented(
                executions, event.get(STARTED_BY) if isinstance(event, dict) else None),
                **({"sleeper": sleeper} if sleeper else {}))
        finally:
            with names:
                starting.discard(run_as)
        if execution.status != "SUCCEEDED":
            raise ServiceError(json.dumps(describe(execution), default=str), service="States", code="TaskFailed")
        return describe(execution)

    return start_execution_sync


def _arn(state_machine: Any, name: str) -> str:
    return f"{state_machine.arn.replace(':stateMachine:', ':execution:')}:{name}"


class _Parented:
    """The execution store as a listener that records who started the execution (its parent)."""

    def __init__(self, store: Any, parent: str | None):
        self._store, self._parent = store, parent

    def on_event(self, execution: Any, event: dict[str, Any]) -> None:
        if event["type"] == "ExecutionStarted" and self._parent and getattr(execution, "parent_arn", None) is None:
            execution.parent_arn = self._parent
        self._store.on_event(execution, event)


class MapRunProgress:
    """The execution store as a listener that also hands each Map Run record to `progress`."""

    def __init__(self, store: Any, progress: Callable[[dict[str, Any]], None]):
        self._store, self._progress = store, progress

    def on_event(self, execution: Any, event: dict[str, Any]) -> None:
        self._store.on_event(execution, event)

    def on_map_run(self, record: dict[str, Any]) -> None:
        self._store.on_map_run(record)
        self._progress(record)


def results_bucket(data_dir: Any) -> Any:
    """The local stand-in of the results bucket: a bucket of its own in `<data dir>/backfill-results`."""
    from pathlib import Path

    from autotagger.local.bucket import LocalBucket

    return LocalBucket(Path(data_dir) / "backfill-results", BACKFILL_RESULTS_BUCKET)


def backfill_state_machine(settings: Any, tagging_state_machine_arn: str, **options: Any) -> Any:
    """backfill.asl.json with the local DefinitionSubstitutions."""
    from autotagger.reprocess import default_rate
    from autotagger.workflow import StateMachine

    region = settings.region
    return StateMachine.from_file(
        BACKFILL_ASL_FILE, name=BACKFILL_STATE_MACHINE_NAME, substitutions=backfill_substitutions(
            bucket=settings.bucket, tagging_state_machine_arn=tagging_state_machine_arn,
            results_bucket=BACKFILL_RESULTS_BUCKET, region=region, account=settings.account,
            # Locally the quota of the default region, as `reprocess --rate` assumes.
            max_concurrency=backfill_max_concurrency(default_rate(region))),
        **options)
