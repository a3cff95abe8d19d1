"""Re-running the tagging workflow on stored objects (after a model or threshold change), and
redriving dead letters on AWS.

Locally the workflow runs in the `Pipeline` of this process; on AWS the same command starts
executions of the deployed state machine with boto3. Both are

* rate-limited: at most `rate` executions started per second; the default is the default
  Rekognition DetectLabels TPS quota of the region, because every re-run calls DetectLabels once
  (Amazon Rekognition endpoints and quotas, https://docs.aws.amazon.com/general/latest/gr/rekognition.html#limits_rekognition:
  50 TPS in us-east-1, us-west-2 and eu-west-1, 5 TPS in the other regions; adjustable);
* idempotent: each object version gets a deterministic execution name from the run id, the key
  and the object's sequencer (or ETag), so running the same reprocess twice starts each execution
  once (a local name that already ran is skipped; Step Functions refuses a name it has seen);
* resumable: a checkpoint file in the data dir records the last key started, in key order, so an
  interrupted run continues after it (`--restart` starts over);
* re-tags: the events carry the re-tag sequencer (contracts.RETAG_SEQUENCER), locally too, so the
  indexer relabels the document of the same ETag and never lets a re-run beat a newer upload or
  a delete (domain.documents.decide).

The run id defaults to a digest of what decides the labels (labeler, model version, MaxLabels,
MinConfidence): re-running without a change is a no-op, after a change every object runs again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from autotagger.contracts import (
    DETECT_LABELS_TPS,
    DETECT_LABELS_TPS_OTHER_REGIONS,
    OBJECT_CREATED,
    RETAG_SEQUENCER,
    S3_EVENT_SOURCE,
)

DEFAULT_REGION = "us-east-1"
_NAME_SAFE = re.compile(r"[^A-Za-z0-9_-]")


def default_rate(region: str | None) -> float:
    """The default DetectLabels TPS quota of `region` (us-east-1's when unknown or local)."""
    if not region or region == "local":
        region = DEFAULT_REGION
    return DETECT_LABELS_TPS.get(region, DETECT_LABELS_TPS_OTHER_REGIONS)


def run_id(*parts: Any) -> str:
    """A short stable id of what decides the labels (12 hex characters)."""
    return hashlib.sha256(json.dumps([str(p) for p in parts]).encode()).hexdigest()[:12]


def execution_name(kind: str, run: str, *identity: str) -> str:
    """`{kind}-{run}-{digest of identity}`: at most 80 characters of [A-Za-z0-9_-], as Step Functions wants."""
    digest = hashlib.sha256("\x00".join(identity).encode("utf-8")).hexdigest()[:32]
    return f"{_NAME_SAFE.sub('-', kind)[:20]}-{_NAME_SAFE.sub('-', run)[:24]}-{digest}"


def parse_since(text: str | None) -> datetime | None:
    """An ISO 8601 date or time (UTC when no zone is given)."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--since must be an ISO 8601 date or time, not {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class RateLimiter:
    """Paces calls to at most `rate` per second (no bursts beyond one call)."""

    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        if not rate > 0:
            raise ValueError(f"the rate must be a positive number of executions per second, not {rate!r}")
        self.interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next: float | None = None
        self.waited = 0.0

    def wait(self) -> None:
        now = self._clock()
        if self._next is not None and now < self._next:
            self._sleep(self._next - now)
            self.waited += self._next - now
            now = self._next
        self._next = now + self.interval


@dataclass
class Checkpoint:
    """Where a reprocess run is; kept as JSON next to the data it describes, replaced atomically."""

    path: Path
    run: str
    last_key: str | None = None
    started: int = 0
    skipped: int = 0
    done: bool = False

    @classmethod
    def load(cls, path: Path, run: str, *, restart: bool = False) -> Checkpoint:
        if not restart and path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("run") == run:
                return cls(path, run, data.get("last_key"), int(data.get("started", 0)),
                           int(data.get("skipped", 0)), bool(data.get("done", False)))
        return cls(path, run)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {k: v for k, v in asdict(self).items() if k != "path"}
        fd, tmp = tempfile.mkstemp(prefix=".reprocess-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


@dataclass
class ReprocessResult:
    run: str
    started: list[str] = field(default_factory=list)       # execution names started by this call
    already_run: list[str] = field(default_factory=list)   # deterministic names seen before: not started again
    resumed_after: str | None = None
    considered: int = 0


@dataclass(frozen=True)
class Candidate:
    key: str
    identity: str                  # sequencer locally, ETag on AWS: one object version
    last_modified: datetime
    event: dict[str, Any]


def _after(key: str, last_key: str | None) -> bool:
    return last_key is None or key.encode("utf-8") > last_key.encode("utf-8")


def _walk(candidates: Iterable[Candidate], checkpoint: Checkpoint, since: datetime | None, limiter: RateLimiter,
          start: Callable[[Candidate, str], bool], kind: str, result: ReprocessResult,
          progress: Callable[[int], None] | None, stop: threading.Event | None) -> ReprocessResult:
    result.resumed_after = checkpoint.last_key
    for candidate in candidates:
        if stop is not None and stop.is_set():
            break
        if not _after(candidate.key, checkpoint.last_key):
            continue
        result.considered += 1
        if since is None or candidate.last_modified >= since:
            name = execution_name(kind, checkpoint.run, candidate.key, candidate.identity)
            limiter.wait()
            if start(candidate, name):
                result.started.append(name)
                checkpoint.started += 1
            else:
                result.already_run.append(name)
                checkpoint.skipped += 1
        checkpoint.last_key = candidate.key
        checkpoint.save()  # after the execution is durably started: a crash repeats at most this one (a no-op)
        if progress is not None:
            progress(1)
    else:
        checkpoint.done = True
        checkpoint.save()
    return result


def _iso_to_datetime(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# -- local -----------------------------------------------------------------------------------

def local_run_id(pipeline: Any) -> str:
    s = pipeline.settings
    return run_id(s.labeler, pipeline.labeler.model_version, s.max_labels, s.min_confidence)


def checkpoint_path(data_dir: Path, run: str) -> Path:
    return Path(data_dir) / "reprocess" / f"{run}.json"


def reprocess_local(pipeline: Any, *, prefix: str = "", since: datetime | None = None, rate: float | None = None,
                    run: str | None = None, restart: bool = False, progress: Callable[[int], None] | None = None,
                    limiter: RateLimiter | None = None, stop: threading.Event | None = None) -> ReprocessResult:
    """Starts one workflow execution per stored object under `prefix` (modified at or after
    `since`), as the event S3 would send for it but with the re-tag sequencer, paced by `rate`;
    resumes from the checkpoint."""
    from autotagger.local.s3_events import object_created_event

    run = run or local_run_id(pipeline)
    checkpoint = Checkpoint.load(checkpoint_path(pipeline.settings.data_dir, run), run, restart=restart)
    limiter = limiter or RateLimiter(rate or default_rate(None))
    settings = pipeline.settings

    def candidates() -> Iterator[Candidate]:
        for obj in pipeline.stores.bucket.list(prefix):
            # The re-tag sequencer, as on AWS (S3 lists no sequencer): the same rule decides it in both.
            event = object_created_event(replace(obj, sequencer=RETAG_SEQUENCER), region=settings.region,
                                         account=settings.account, reason="Reprocess")
            yield Candidate(obj.key, obj.sequencer, _iso_to_datetime(obj.last_modified), event)

    return _walk(candidates(), checkpoint, since, limiter, lambda c, name: pipeline.start_execution(c.event, name),
                 "reprocess", ReprocessResult(run), progress, stop)


def count_local(pipeline: Any, prefix: str = "") -> int:
    return sum(1 for _ in pipeline.stores.bucket.list(prefix))


# -- AWS -------------------------------------------------------------------------------------

def _s3_event(bucket: str, obj: dict[str, Any], sequencer: str, region: str, account: str) -> dict[str, Any]:
    """The EventBridge "Object Created" event S3 would send for `obj` (a ListObjectsV2 entry)."""
    modified = obj["LastModified"].astimezone(UTC)
    return {
        "version": "0", "id": execution_name("event", "reprocess", bucket, obj["Key"], obj["ETag"]),
        "detail-type": OBJECT_CREATED, "source": S3_EVENT_SOURCE, "account": account,
        "time": modified.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": region,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {"version": "0", "bucket": {"name": bucket},
                   "object": {"key": obj["Key"], "size": obj["Size"], "etag": obj["ETag"].strip('"'),
                              "sequencer": sequencer},
                   "request-id": "reprocess", "requester": account, "reason": "Reprocess"},
    }


def _arn_parts(state_machine_arn: str) -> tuple[str, str]:
    parts = state_machine_arn.split(":")
    if len(parts) < 7 or parts[0] != "arn" or parts[2] != "states" or parts[5] != "stateMachine":
        raise ValueError(f"not a state machine ARN: {state_machine_arn!r}")
    return parts[3], parts[4]


def _start(sfn: Any, state_machine_arn: str, name: str, event: dict[str, Any]) -> bool:
    """StartExecution; False when the name was used before (ExecutionAlreadyExists), as a re-run
    of the same reprocess or redrive should be a no-op."""
    try:
        sfn.start_execution(stateMachineArn=state_machine_arn, name=name, input=json.dumps(event))
        return True
    except sfn.exceptions.ExecutionAlreadyExists:
        return False


def reprocess_aws(sfn: Any, s3: Any, *, state_machine_arn: str, bucket: str, prefix: str = "",
                  since: datetime | None = None, rate: float | None = None, run: str | None = None,
                  checkpoint_file: Path, restart: bool = False,
                  progress: Callable[[int], None] | None = None, limiter: RateLimiter | None = None,
                  stop: threading.Event | None = None) -> ReprocessResult:
    """Starts executions of the deployed state machine for the objects of `bucket` under `prefix`.

    S3 does not report an object's sequencer outside its events, so each event carries the re-tag
    sequencer (contracts.RETAG_SEQUENCER), as the backfill's do: the indexer replaces the labels of
    the document of the same ETag and keeps its place among the object's events
    (domain.documents.decide)."""
    region, account = _arn_parts(state_machine_arn)
    run = run or run_id("aws", state_machine_arn)
    checkpoint = Checkpoint.load(checkpoint_file, run, restart=restart)
    limiter = limiter or RateLimiter(rate or default_rate(region))

    def candidates() -> Iterator[Candidate]:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix,
                                                            **({"StartAfter": checkpoint.last_key}
                                                               if checkpoint.last_key else {}))
        for page in pages:
            for obj in page.get("Contents", []):
                yield Candidate(obj["Key"], obj["ETag"].strip('"'), obj["LastModified"],
                                _s3_event(bucket, obj, RETAG_SEQUENCER, region, account))

    return _walk(candidates(), checkpoint, since, limiter,
                 lambda c, name: _start(sfn, state_machine_arn, name, c.event), "reprocess", ReprocessResult(run),
                 progress, stop)


@dataclass
class RedriveResult:
    started: list[str] = field(default_factory=list)
    already_run: list[str] = field(default_factory=list)
    not_redrivable: list[str] = field(default_factory=list)  # message ids without an original event (kept)


def redrive_aws(sfn: Any, sqs: Any, *, state_machine_arn: str, queue_url: str, rate: float | None = None,
                limiter: RateLimiter | None = None, max_messages: int | None = None,
                visibility_timeout_s: int = 300) -> RedriveResult:
    """Workflow dead letters (SQS) -> new executions on their original event, named after the
    message (`redrive-<digest of the message id>`), so a message redriven twice starts one run;
    a message is deleted only after its execution started (or had started before)."""
    region, _ = _arn_parts(state_machine_arn)
    limiter = limiter or RateLimiter(rate or default_rate(region))
    result = RedriveResult()
    seen: set[str] = set()  # a message left in the queue comes back once its visibility lapses: once is enough
    while max_messages is None or len(seen) < max_messages:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                    VisibilityTimeout=visibility_timeout_s).get("Messages", [])
        batch = [m for m in batch if m["MessageId"] not in seen]
        if not batch:
            break
        for message in batch:
            seen.add(message["MessageId"])
            try:
                body = json.loads(message["Body"])
                event = body["event"] if isinstance(body, dict) else None
            except (ValueError, KeyError):
                event = None
            if not isinstance(event, dict):
                result.not_redrivable.append(message["MessageId"])
                continue
            name = execution_name("redrive", "dlq", message["MessageId"])
            limiter.wait()
            (result.started if _start(sfn, state_machine_arn, name, event) else result.already_run).append(name)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return result


# -- reconciliation after a crash ------------------------------------------------------------------

@dataclass
class ReconcileResult:
    tagged: list[str] = field(default_factory=list)   # keys stored but never run: their execution was started
    deleted: list[str] = field(default_factory=list)  # keys indexed but gone from the bucket: a delete was run


def _object_version(text: str, *outer: str) -> tuple[str, str] | None:
    """(key, sequencer) of the S3 event in the JSON `text` (found under the keys `outer`); None if it holds none."""
    try:
        value = json.loads(text)
        for name in (*outer, "detail", "object"):
            value = value[name]
        key, sequencer = value["key"], value["sequencer"]
    except (TypeError, ValueError, KeyError):
        return None
    return (key, sequencer) if isinstance(key, str) and isinstance(sequencer, str) else None


def reconcile_local(pipeline: Any, *, rate: float | None = None, limiter: RateLimiter | None = None,
                    page: int = 500) -> ReconcileResult:
    """Repairs what a kill between two durable steps of an upload or delete can leave behind:

    * an object stored whose execution never became pending (the process died after storing it,
      before acknowledging it): its workflow is run now;
    * a document whose object is gone (the process died after the delete, before its event was
      pending; a retried DELETE finds nothing to delete and sends no event): its delete is run now.

    Execution names are deterministic (`reconcile-...`), so running this twice starts nothing new."""
    from autotagger.domain.documents import document_id
    from autotagger.local.s3_events import object_created_event, object_deleted_event
    from autotagger.ports import StoredObject

    stores, settings = pipeline.stores, pipeline.settings
    limiter = limiter or RateLimiter(rate or default_rate(None))
    result = ReconcileResult()
    # (key, sequencer) of every version a run or a dead letter (its body holds the event) knows
    traces = {_object_version(execution["input"]) for execution in stores.executions.list(limit=10_000_000)}
    traces |= {_object_version(letter.body, "event") for letter in stores.workflow_dlq.list(limit=10_000_000)}
    for obj in stores.bucket.list(""):
        document = stores.index.get(document_id(obj.bucket, obj.key))
        if (document and document.get("sequencer") == obj.sequencer) or (obj.key, obj.sequencer) in traces:
            continue
        limiter.wait()
        event = object_created_event(obj, region=settings.region, account=settings.account, reason="Reconcile")
        if pipeline.start_execution(event, execution_name("reconcile", "put", obj.key, obj.sequencer)):
            result.tagged.append(obj.key)
    gone_documents, offset = [], 0
    while True:  # collect first: the deletes started below change the pages
        found = stores.index.search(limit=page, offset=offset)["images"]
        gone_documents += [d for d in found if d.get("bucket") == stores.bucket.name
                           and stores.bucket.head(d["key"]) is None]
        if len(found) < page:
            break
        offset += page
    for document in gone_documents:
        gone = StoredObject(bucket=document["bucket"], key=document["key"], size=document.get("size") or 0,
                            etag=document.get("etag") or "", sequencer=document["sequencer"],
                            last_modified=datetime.now(UTC).isoformat().replace("+00:00", "Z"))
        limiter.wait()
        event = object_deleted_event(gone, region=settings.region, account=settings.account)
        if pipeline.start_execution(event, execution_name("reconcile", "delete", gone.key, gone.sequencer)):
            result.deleted.append(gone.key)
    return result


# -- the backfill: statemachine/backfill.asl.json (a Distributed Map) --------------------------------
#
# Resumable by re-running: every object version gets the tagging execution name
# `<run>-<sha1(bucket/key/etag)>` (the ASL's NameExecution state), where `run` digests what decides
# the labels. Step Functions refuses a name it has seen (ExecutionAlreadyExists, for 90 days after a
# Standard execution ends), and the backfill counts such an object as done (AlreadyTagged), so a
# second backfill with unchanged settings starts no tagging execution, and one after a change of
# model or settings re-tags everything once.

@dataclass
class BackfillSummary:
    execution: str                 # the backfill execution's name
    status: str                    # its status: SUCCEEDED, FAILED (e.g. too many failed items), ...
    succeeded: int                 # items of the Map Run by status (a failed batch counts all its items)
    failed: int
    map_run: dict[str, Any] | None = None
    error: str | None = None
    cause: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"execution": self.execution, "items": {"succeeded": self.succeeded, "failed": self.failed}}


def _failed_items(counts: dict[str, Any]) -> int:
    return int(counts.get("failed", 0)) + int(counts.get("timedOut", 0)) + int(counts.get("aborted", 0))


def backfill_name(run: str, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> str:
    """A new backfill execution's name: the run and when it started (whole seconds, plus 4 hex
    characters so two starts in one second differ)."""
    return f"backfill-{run}-{clock().strftime('%Y%m%dT%H%M%S')}-{os.urandom(2).hex()}"


def backfill_local(pipeline: Any, *, prefix: str = "", run: str | None = None, restart: bool = False,
                   name: str | None = None, progress: Callable[[dict[str, Any]], None] | None = None
                   ) -> BackfillSummary:
    """Runs the backfill on the local pipeline to its end. `restart` re-tags objects this run
    already tagged (a fresh run id); `progress` gets each Map Run record as its counts change."""
    run = run or local_run_id(pipeline)
    if restart:
        run = run_id(run, datetime.now(UTC).isoformat())
    execution = pipeline.run_backfill({"prefix": prefix, "run": run}, name or backfill_name(run), progress)
    runs = pipeline.stores.executions.map_runs(execution.arn)
    counts = runs[-1]["itemCounts"] if runs else {}
    return BackfillSummary(execution.name, execution.status, int(counts.get("succeeded", 0)), _failed_items(counts),
                           runs[-1] if runs else None, execution.error, execution.cause)


def stack_output(cloudformation: Any, stack_name: str, key: str) -> str:
    """An output of the deployed stack (e.g. BackfillStateMachineArn)."""
    stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    for output in stacks[0].get("Outputs", []) if stacks else []:
        if output["OutputKey"] == key:
            return str(output["OutputValue"])
    raise KeyError(f"stack {stack_name} has no output {key} (deploy the current version: cdk deploy)")


def backfill_aws(sfn: Any, *, state_machine_arn: str, tagging_state_machine_arn: str, prefix: str = "",
                 run: str | None = None, restart: bool = False, name: str | None = None,
                 progress: Callable[[dict[str, Any]], None] | None = None, poll_s: float = 5.0,
                 sleep: Callable[[float], None] = time.sleep) -> BackfillSummary:
    """Starts the deployed backfill and follows its Map Run (ListMapRuns, DescribeMapRun) until the
    execution ends; `progress` gets each DescribeMapRun answer. The default run digests the tagging
    state machine's definition (MaxLabels and MinConfidence are substituted into it)."""
    if run is None:
        definition = sfn.describe_state_machine(stateMachineArn=tagging_state_machine_arn)["definition"]
        run = run_id("aws", definition)
    if restart:
        run = run_id(run, datetime.now(UTC).isoformat())
    name = name or backfill_name(run)
    execution_arn = sfn.start_execution(stateMachineArn=state_machine_arn, name=name,
                                        input=json.dumps({"prefix": prefix, "run": run}))["executionArn"]
    map_run: dict[str, Any] | None = None
    while True:
        described = sfn.describe_execution(executionArn=execution_arn)
        runs = sfn.list_map_runs(executionArn=execution_arn).get("mapRuns", [])
        if runs:
            map_run = sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"])
            if progress is not None:
                progress(map_run)
        if described["status"] != "RUNNING":
            break
        sleep(poll_s)
    counts = (map_run or {}).get("itemCounts", {})
    return BackfillSummary(name, described["status"], int(counts.get("succeeded", 0)), _failed_items(counts), map_run,
                           described.get("error"), described.get("cause"))
