"""The whole image-tagging system on one machine, wired like the AWS deployment.

upload -> bucket (durable) -> S3-shaped event -> event router rule (the EventBridge pattern CDK
deploys) -> durable outbox row -> workflow engine running the very ASL file Step Functions runs,
on a worker pool -> task adapters (labeler, stream, dead-letter queue) -> stream consumer ->
the very indexer Lambda handler -> index.

Crash safety rests on two durable hand-offs: an upload is acknowledged only after its pending
execution is in the outbox, and a record is on the stream before the execution succeeds. On
start, executions a crash left RUNNING are marked ABORTED and their outbox rows run again under a
new execution name; the stream consumer resumes from its checkpoint. Every accepted upload
therefore ends indexed or as a dead letter with its reason.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from autotagger.config import STATE_MACHINE_NAME, STREAM_NAME, Settings
from autotagger.errors import UserError
from autotagger.local import task_adapters
from autotagger.local.data_dir_lock import DataDirLock
from autotagger.local.stores import INDEXER_CONSUMER, RUNTIME_DB, LocalStores
from autotagger.ports import Labeler, StoredObject

log = logging.getLogger(__name__)

STATE_MACHINE_FILE = "image_tagging.asl.json"
TAGGING_RULE = "image-tagging"
# Powertools in the indexer handler: no X-Ray, no EMF lines on stdout, only warnings logged.
_POWERTOOLS_LOCAL_DEFAULTS = {"POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
                              "POWERTOOLS_LOG_LEVEL": "WARNING"}

_OUTBOX_SCHEMA = """
CREATE TABLE IF NOT EXISTS pending_executions (
    name       TEXT PRIMARY KEY,   -- the first execution's name: the idempotency key
    input      TEXT NOT NULL,      -- the workflow input (the S3 EventBridge event), JSON
    attempt    INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
"""


def state_machine_path() -> Path:
    """The ASL file: AUTOTAGGER_STATE_MACHINE, else `statemachine/` next to the package."""
    override = os.environ.get("AUTOTAGGER_STATE_MACHINE")
    path = Path(override) if override else Path(__file__).resolve().parents[2] / "statemachine" / STATE_MACHINE_FILE
    if not path.is_file():
        raise UserError(f"workflow definition not found at {path} (set AUTOTAGGER_STATE_MACHINE)")
    return path


def tagging_rule_pattern(bucket: str) -> dict[str, Any]:
    """The EventBridge rule CDK deploys: S3 object created/deleted events of the image bucket."""
    return {"source": ["aws.s3"], "detail-type": ["Object Created", "Object Deleted"],
            "detail": {"bucket": {"name": [bucket]}}}


def _sent_dead_letter(execution: Any) -> bool:
    """True when the workflow itself stored the dead letter (its SQS SendMessage task succeeded)."""
    return any(event.get("type") == "TaskSucceeded"
               and (event.get("taskSucceededEventDetails") or {}).get("resourceType") == "sqs"
               for event in execution.history)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Pipeline:
    """The running local system. Use as a context manager, or `start()` then `close()`.

    One pipeline runs per data directory at a time (a lock file enforces it); read-only
    commands use `LocalStores` directly and need no lock.
    """

    def __init__(self, settings: Settings, *, labeler: Labeler | None = None, index: Any = None,
                 consumer_options: dict[str, Any] | None = None, faults: Any = None, sleeper: Any = None):
        self.settings = settings
        # Fault injection (autotagger.faults) wraps ports where they are composed; adapters stay clean.
        if faults is None and getattr(settings, "faults", ()):
            from autotagger.faults import FaultPlan

            faults = FaultPlan.parse(settings.faults)
        self.faults = faults
        self._sleeper = sleeper  # the workflow's Retry/Wait sleeper (tests pass a fast one)
        self._lock = DataDirLock(Path(settings.data_dir))
        self._lock.acquire()
        try:
            self.stores = LocalStores(settings, index=index)
            self._labeler = labeler
            # No batching window (Lambda's default): a record is indexed as soon as it is put; under load
            # records pile up while a batch is indexed, so batches still form.
            self._consumer_options = {"batching_window_s": 0.0, "max_retries": 5, **(consumer_options or {})}
            from autotagger.local.sqlite_util import Database

            self._outbox = Database(Path(settings.data_dir) / RUNTIME_DB)
            self._outbox.executescript(_OUTBOX_SCHEMA)
        except BaseException:
            self._lock.release()
            raise
        self._pool: ThreadPoolExecutor | None = None
        self._consumer = None
        self._state_machine = None
        self._registry = None
        self._router = None
        self._in_flight = 0
        self.completed = 0  # executions finished since start (progress bars read it)
        self._idle = threading.Condition()
        self._started = False
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "Pipeline":
        if self._started:
            return self
        from autotagger.local.events import EventRouter
        from autotagger.workflow import StateMachine

        if self._labeler is None:
            from autotagger.labeler import get_labeler

            # `workers` labeler calls run at once (BoundedLabeler below): they share the cores.
            self._labeler = get_labeler(self.settings.labeler, rules_path=self.settings.rules_path,
                                        concurrent_callers=self.settings.workers)
        self._labeler = self._with_faults("labeler", self._labeler)
        s = self.settings
        self._state_machine = StateMachine.from_file(state_machine_path(), substitutions=s.substitutions(),
                                                     name=STATE_MACHINE_NAME,
                                                     **({"sleeper": self._sleeper} if self._sleeper else {}))
        self._registry = self._task_registry()
        self._router = EventRouter()
        self._router.add_rule(TAGGING_RULE, tagging_rule_pattern(s.bucket), self._accept_event)
        # Twice as many executions as labeler slots: the others' I/O steps overlap the labeler calls.
        self._pool = ThreadPoolExecutor(max_workers=2 * s.workers, thread_name_prefix="workflow")
        self._consumer = self._stream_consumer()
        self._started = True
        self._recover()
        self._consumer.start()
        return self

    def close(self) -> None:
        """Stops taking work, lets running executions finish, stops the consumer, closes files.

        Executions still queued are not started: their outbox rows run them on the next start."""
        if self._closed:
            return
        self._closed = True
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._consumer is not None:
            self._consumer.stop()
            self._consumer = None
        if self._started:
            from autotagger import indexing

            indexing.configure(None)
            self._started = False
        self._outbox.close()
        self.stores.close()
        self._lock.release()

    def __enter__(self) -> "Pipeline":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- composition -------------------------------------------------------------------------

    def _with_faults(self, port: str, adapter: Any) -> Any:
        return self.faults.wrap(port, adapter) if self.faults else adapter

    def _task_registry(self):
        from autotagger.workflow import TaskRegistry

        stores = self.stores
        return (TaskRegistry()
                .register(task_adapters.DETECT_LABELS_ARN,
                          task_adapters.detect_labels_adapter(
                              stores.bucket, task_adapters.BoundedLabeler(self._labeler, self.settings.workers)))
                .register(task_adapters.PUT_RECORD_ARN, task_adapters.put_record_adapter(
                    self._with_faults("stream", stores.stream), STREAM_NAME))
                .register(task_adapters.SEND_MESSAGE_ARN,
                          task_adapters.send_message_adapter(stores.workflow_dlq, self.settings.dead_letter_queue_url)))

    def _stream_consumer(self):
        """Lambda's event source mapping feeding the indexer Lambda's own handler."""
        for name, value in _POWERTOOLS_LOCAL_DEFAULTS.items():
            os.environ.setdefault(name, value)
        # With metrics disabled every invocation flushes an empty metric set, and Powertools warns.
        warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
        from autotagger import indexing
        from autotagger.local.stream import StreamConsumer
        from functions.indexer.handler import handler

        indexing.configure(self._with_faults("index", self.stores.index))
        return StreamConsumer(self.stores.stream, handler, on_failure=self.stores.indexer_dlq, name=INDEXER_CONSUMER,
                              **self._consumer_options)

    # -- the API the server and the CLI use --------------------------------------------------

    @property
    def bucket_name(self) -> str:
        return self.settings.bucket

    @property
    def index(self):
        return self.stores.index

    @property
    def labeler(self) -> Labeler | None:
        return self._labeler

    def upload(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> StoredObject:
        """Stores the object and returns once its tagging execution is durably pending."""
        from autotagger.local.events import object_created_event

        self._require_started()
        stored = self.stores.bucket.put(key, data, content_type)
        self._router.publish(object_created_event(stored, region=self.settings.region, account=self.settings.account))
        return stored

    def delete(self, key: str) -> StoredObject | None:
        """Deletes the object; its delete event flows through the workflow to the index."""
        from autotagger.local.events import object_deleted_event

        self._require_started()
        deleted = self.stores.bucket.delete(key)
        if deleted is not None:
            self._router.publish(object_deleted_event(deleted, region=self.settings.region,
                                                      account=self.settings.account))
        return deleted

    def read_object(self, key: str) -> tuple[bytes, str] | None:
        return self.stores.read_object(key)

    def list_executions(self, status: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        return self.stores.list_executions(status, limit)

    def get_execution(self, execution_id: str) -> dict[str, Any] | None:
        return self.stores.get_execution(execution_id)

    def dead_letters(self, limit: int = 100) -> dict[str, list[dict[str, Any]]]:
        return self.stores.dead_letters(limit)

    def summary(self) -> dict[str, Any]:
        return self.stores.summary()

    def upload_outcome(self, bucket: str, key: str, sequencer: str | None = None) -> dict[str, Any] | None:
        return self.stores.upload_outcome(bucket, key, sequencer)

    def redrive(self, message_ids: list[str] | None = None) -> dict[str, list[str]]:
        """Workflow dead letters run the workflow again on their original event (a new execution
        named after the message, so redriving one message twice starts one run); indexer dead
        letters put their records back on the stream."""
        from autotagger.local.stream import redrive_batch

        self._require_started()
        workflow, indexer = self.stores.workflow_dlq, self.stores.indexer_dlq
        if message_ids is None:
            message_ids = [m.message_id for m in workflow.list(limit=1_000_000)]
            message_ids += [m.message_id for m in indexer.list(limit=1_000_000)]
        redriven, not_found = [], []
        for message_id in message_ids:
            if workflow.get(message_id) is not None:
                done = workflow.redrive(message_id, self._rerun_dead_letter)
            elif indexer.get(message_id) is not None:
                done = indexer.redrive(message_id, lambda letter: redrive_batch(self.stores.stream, letter.body))
            else:
                done = False
            (redriven if done else not_found).append(message_id)
        return {"redriven": redriven, "not_found": not_found}

    def start_execution(self, event: dict[str, Any], name: str) -> bool:
        """Runs the workflow on `event` as execution `name` (used by `autotagger reprocess`); a name
        that already ran or is pending is not run again (idempotent). True if it was not seen before."""
        self._require_started()
        if self.stores.executions.get(self.stores.execution_arn(name)) is not None:
            return False
        self._submit(event, name)
        return True

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Blocks until no execution is pending or running and the stream is fully consumed.
        False if `timeout` passed first."""
        deadline = time.monotonic() + timeout
        with self._idle:
            if not self._idle.wait_for(lambda: self._in_flight == 0, timeout):
                return False
        while self.stores.stream_records_pending():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    # -- executions --------------------------------------------------------------------------

    def _accept_event(self, event: dict[str, Any]) -> None:
        """The rule's target: persists the pending execution, then schedules it."""
        self._submit(event, event.get("id") or os.urandom(16).hex())

    def _rerun_dead_letter(self, letter: Any) -> None:
        body = json.loads(letter.body)
        event = body.get("event") if isinstance(body, dict) else None
        if not isinstance(event, dict):
            raise ValueError(f"dead letter {letter.message_id} carries no original event to run again")
        name = f"redrive-{letter.message_id}"
        if self.stores.executions.get(self.stores.execution_arn(name)) is not None:
            return  # a crash came between re-running it and removing the message: it ran already
        self._submit(event, name)

    def _submit(self, event: dict[str, Any], name: str) -> None:
        with self._outbox.transaction() as conn:
            inserted = conn.execute(
                "INSERT OR IGNORE INTO pending_executions (name, input, attempt, created_at) VALUES (?, ?, 0, ?)",
                (name, json.dumps(event), _now())).rowcount
        if inserted:  # else already pending: idempotent
            self._schedule(name, name, event)

    def _schedule(self, key: str, execution_name: str, event: dict[str, Any]) -> None:
        with self._idle:
            self._in_flight += 1
        try:
            self._pool.submit(self._run, key, execution_name, event)
        except BaseException:
            self._finished()
            raise

    def _run(self, key: str, execution_name: str, event: dict[str, Any]) -> None:
        try:
            try:
                execution = self._state_machine.run(event, self._registry, execution_name=execution_name,
                                                    listener=self.stores.executions)
                if execution.status != "SUCCEEDED" and not _sent_dead_letter(execution):
                    # Ended outside the workflow's own dead-letter path (an engine or timeout failure).
                    self._dead_letter(event, execution_name, execution.error or "States.Runtime",
                                      execution.cause or f"the execution ended {execution.status}")
            except Exception as exc:  # noqa: BLE001 - an engine fault must still leave a trace
                log.exception("execution %s could not run", execution_name)
                self._dead_letter(event, execution_name, "Autotagger.EngineFault", f"{type(exc).__name__}: {exc}")
            with self._outbox.transaction() as conn:
                conn.execute("DELETE FROM pending_executions WHERE name = ?", (key,))
        except Exception:  # noqa: BLE001 - the outbox row stays and the run is retried on restart
            log.exception("execution %s: could not record its end; it will run again on restart", execution_name)
        finally:
            self._finished()

    def _dead_letter(self, event: dict[str, Any], execution_name: str, error: str, cause: str) -> None:
        """The workflow never got to its own dead-letter state: write the dead letter it would have."""
        self.stores.workflow_dlq.send(json.dumps({
            "event": event, "error": error, "cause": cause,
            "execution_id": self.stores.execution_arn(execution_name), "failed_at": _now()}))

    def _finished(self) -> None:
        with self._idle:
            self._in_flight -= 1
            self.completed += 1
            if self._in_flight == 0:
                self._idle.notify_all()

    def _recover(self) -> None:
        """Runs again what a crash interrupted: RUNNING executions become ABORTED, and every
        outbox row (accepted but not finished) runs under a fresh execution name."""
        store = self.stores.executions
        for arn, _ in store.running():
            store.mark_aborted(arn, "the local runtime stopped before the execution ended; it was run again")
        rows = self._outbox.query("SELECT name, input, attempt FROM pending_executions ORDER BY created_at")
        for row in rows:
            if self._ended(row["name"], row["attempt"]):
                # It ran to its end (dead letter or record stored) and only the outbox cleanup was lost:
                # running it again would duplicate its dead letter.
                with self._outbox.transaction() as conn:
                    conn.execute("DELETE FROM pending_executions WHERE name = ?", (row["name"],))
                continue
            attempt = row["attempt"] + 1
            with self._outbox.transaction() as conn:
                conn.execute("UPDATE pending_executions SET attempt = ? WHERE name = ?", (attempt, row["name"]))
            log.warning("re-running interrupted execution %s (attempt %d)", row["name"], attempt)
            self._schedule(row["name"], f"{row['name']}-r{attempt}", json.loads(row["input"]))

    def _ended(self, name: str, attempts: int) -> bool:
        """True if an earlier run of outbox row `name` (named `name`, then `name-r1`, ...) ended."""
        for run in [name] + [f"{name}-r{k}" for k in range(1, attempts + 1)]:
            execution = self.stores.executions.get(self.stores.execution_arn(run))
            if execution is not None and execution["status"] in ("SUCCEEDED", "FAILED", "TIMED_OUT"):
                return True
        return False

    def _require_started(self) -> None:
        if not self._started:
            raise RuntimeError("the pipeline is not started (use `with Pipeline(...)` or call start())")
