"""The whole image-tagging system on one machine, wired like the AWS deployment.

upload -> bucket (durable) -> S3-shaped event -> event router rule (the EventBridge pattern CDK
deploys) -> durable outbox row -> workflow engine running the very ASL file Step Functions runs,
on a worker pool -> task adapters (labeler, stream, dead-letter queue) -> stream consumer ->
the very indexer Lambda handler -> index.

Crash safety rests on two durable hand-offs: an upload is acknowledged only after its pending
execution is in the outbox (`local.outbox`), and a record is on the stream before the execution
succeeds. On start, `local.recovery` runs again what a crash interrupted; the stream consumer
resumes from its checkpoint. Every accepted upload therefore ends indexed or as a dead letter with
its reason. This module only wires the pieces and runs their lifecycle: executions run in
`local.execution_runner`, the stream is consumed by `local.event_source_mapping`, dead letters are
redriven by `local.redrive`.
"""

from __future__ import annotations

import json
import os
import threading
import time
import warnings
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autotagger.config import Settings
from autotagger.contracts import (
    ASL_FILE,
    INDEXER_BATCH_SIZE,
    INDEXER_RETRY_ATTEMPTS,
    STATE_MACHINE_NAME,
    STREAM_NAME,
    TAGGING_RULE_NAME,
    UNSUPPORTED_OBJECT_RULE_NAME,
    tagging_rule_pattern,
    unsupported_object_dead_letter,
    unsupported_object_rule_pattern,
)
from autotagger.errors import UserError
from autotagger.local import task_adapters
from autotagger.local.data_dir_lock import DataDirLock
from autotagger.local.outbox import Outbox
from autotagger.local.stores import INDEXER_CONSUMER, RUNTIME_DB, LocalStores
from autotagger.ports import Labeler, ModerationDetector, StoredObject, TextDetector

if TYPE_CHECKING:
    from autotagger.local.event_router import EventRouter
    from autotagger.local.event_source_mapping import StreamConsumer
    from autotagger.local.execution_runner import ExecutionRunner
    from autotagger.workflow import StateMachine, TaskRegistry

# Powertools in the indexer handler: no X-Ray, no EMF lines on stdout, only warnings logged.
_POWERTOOLS_LOCAL_DEFAULTS = {"POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
                              "POWERTOOLS_LOG_LEVEL": "WARNING"}


def state_machine_path() -> Path:
    """The ASL file: AUTOTAGGER_STATE_MACHINE, else `statemachine/` next to the package."""
    override = os.environ.get("AUTOTAGGER_STATE_MACHINE")
    path = Path(override) if override else ASL_FILE
    if not path.is_file():
        raise UserError(f"workflow definition not found at {path} (set AUTOTAGGER_STATE_MACHINE)")
    return path


class Pipeline:
    """The running local system. Use as a context manager, or `start()` then `close()`.

    One pipeline runs per data directory at a time (a lock file enforces it); read-only
    commands use `LocalStores` directly and need no lock. Pipelines on different data
    directories may run in one process: each owns its indexer handler and its index.
    """

    def __init__(self, settings: Settings, *, labeler: Labeler | None = None, index: Any = None,
                 consumer_options: dict[str, Any] | None = None, faults: Any = None, sleeper: Any = None,
                 text_detector: TextDetector | None = None, moderation_detector: ModerationDetector | None = None):
        self.settings = settings
        # The optional analyses' detectors (DetectText, DetectModerationLabels); None: the local ones
        # (autotagger.labeler), built on the first call that needs them.
        self._given_analysers: dict[str, Any] = {"text": text_detector, "moderation": moderation_detector}
        self._analysers: dict[str, Any] = {}  # by fault port, built and fault-wrapped at first use
        self._analysers_lock = threading.Lock()  # the first calls of several executions build them once
        # Fault injection (autotagger.faults) wraps ports where they are composed; adapters stay clean.
        if faults is None and settings.faults:
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
            self._consumer_options = {"batching_window_s": 0.0, "batch_size": INDEXER_BATCH_SIZE,
                                      "max_retries": INDEXER_RETRY_ATTEMPTS, **(consumer_options or {})}
            self._outbox = Outbox(Path(settings.data_dir) / RUNTIME_DB)
        except BaseException:
            self._lock.release()
            raise
        # Built by start(): the methods that use them call _require_started() first.
        self._runner: ExecutionRunner | None = None
        self._state_machine: StateMachine | None = None
        self._registry: TaskRegistry | None = None
        self._consumer: StreamConsumer | None = None
        self._router: EventRouter | None = None
        self._started = False
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Pipeline:
        if self._started:
            return self
        from autotagger.local.event_router import EventRouter
        from autotagger.local.execution_runner import ExecutionRunner
        from autotagger.local.recovery import recover
        from autotagger.workflow import StateMachine

        if self._labeler is None:
            from autotagger.labeler import get_labeler

            # `workers` labeler calls run at once (BoundedLabeler below): they share the cores.
            self._labeler = get_labeler(self.settings.labeler, rules_path=self.settings.rules_path,
                                        concurrent_callers=self.settings.workers)
        self._labeler = self._with_faults("labeler", self._labeler)
        s = self.settings
        state_machine = StateMachine.from_file(state_machine_path(), substitutions=s.substitutions(),
                                               name=STATE_MACHINE_NAME,
                                               **({"sleeper": self._sleeper} if self._sleeper else {}))
        # Twice as many executions as labeler slots: the others' I/O steps overlap the labeler calls.
        self._state_machine, self._registry = state_machine, self._task_registry()
        self._runner = runner = ExecutionRunner(state_machine, self._registry, outbox=self._outbox,
                                       executions=self.stores.executions, dead_letters=self.stores.workflow_dlq,
                                       execution_arn=self.stores.execution_arn, max_workers=2 * s.workers)
        self._router = router = EventRouter()
        # The rule's target persists the pending execution (outbox), then schedules it.
        router.add_rule(TAGGING_RULE_NAME, tagging_rule_pattern(s.bucket),
                              lambda event: runner.submit(event, event.get("id") or os.urandom(16).hex()))
        # Other files start no execution: like the AWS rule, this one dead-letters them at once.
        router.add_rule(UNSUPPORTED_OBJECT_RULE_NAME, unsupported_object_rule_pattern(s.bucket),
                              lambda event: self.stores.workflow_dlq.send(json.dumps(
                                  unsupported_object_dead_letter(event, event.get("time") or ""))))
        self._consumer = consumer = self._stream_consumer()
        self._started = True
        recover(self._outbox, self.stores.executions, self.stores.execution_arn, runner.schedule,
                self.stores.workflow_dlq)
        consumer.start()
        return self

    def close(self) -> None:
        """Stops taking work, lets running executions finish, stops the consumer, closes files.

        Executions still queued are not started: their outbox rows run them on the next start."""
        if self._closed:
            return
        self._closed = True
        self._started = False
        if self._runner is not None:
            self._runner.close()
        if self._consumer is not None:
            self._consumer.stop()
            self._consumer = None
        self._outbox.close()
        self.stores.close()
        self._lock.release()

    def __enter__(self) -> Pipeline:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- composition -------------------------------------------------------------------------

    def _with_faults(self, port: str, adapter: Any) -> Any:
        return self.faults.wrap(port, adapter) if self.faults else adapter

    def _task_registry(self):
        from autotagger.workflow import TaskRegistry

        stores = self.stores
        # One call per worker at once across the three analysers: they all want the cores.
        slots = task_adapters.AnalyserSlots(self.settings.workers)
        return (TaskRegistry()
                .register(task_adapters.DETECT_LABELS_ARN,
                          task_adapters.detect_labels_adapter(
                              stores.bucket, task_adapters.BoundedLabeler(self._labeler, slots)))
                .register(task_adapters.DETECT_TEXT_ARN, task_adapters.detect_text_adapter(
                    stores.bucket, task_adapters.BoundedTextDetector(self._text_detector_factory, slots)))
                .register(task_adapters.DETECT_MODERATION_LABELS_ARN, task_adapters.detect_moderation_labels_adapter(
                    stores.bucket, task_adapters.BoundedModerationDetector(self._moderation_detector_factory, slots)))
                .register(task_adapters.PUT_RECORD_ARN, task_adapters.put_record_adapter(
                    self._with_faults("stream", stores.stream), STREAM_NAME))
                .register(task_adapters.SEND_MESSAGE_ARN,
                          task_adapters.send_message_adapter(stores.workflow_dlq, self.settings.dead_letter_queue_url))
                .register(task_adapters.LAMBDA_INVOKE_ARN, task_adapters.lambda_invoke_adapter(
                    {self.settings.normalize_function_arn: self._normalize_handler()}, self._lambda_context))
                .register(task_adapters.DELETE_OBJECT_ARN, task_adapters.delete_object_adapter(stores.bucket)))

    def _analyser(self, port: str, build: Callable[[], Any]) -> Any:
        """The optional analyser behind fault port `port`: the one this pipeline was given, else
        `build()`'s, made on first use (only a workflow that asks for it pays for loading it);
        fault wrappers go on once."""
        with self._analysers_lock:
            if port not in self._analysers:
                given = self._given_analysers.get(port)
                self._analysers[port] = self._with_faults(port, given if given is not None else build())
            return self._analysers[port]

    def _text_detector_factory(self) -> TextDetector:
        from autotagger.labeler import get_text_detector

        return self._analyser("text", get_text_detector)

    def _moderation_detector_factory(self) -> ModerationDetector:
        from autotagger.labeler import get_moderation_detector

        return self._analyser("moderation", lambda: get_moderation_detector(concurrent_callers=self.settings.workers))

    def _normalize_handler(self):
        """The Normalize Lambda's handler, built by its own factory around this pipeline's bucket."""
        from autotagger.normalize import make_handler

        bucket = self.stores.bucket

        def store_for(name: str):
            if name != bucket.name:
                raise KeyError(f"no bucket {name!r} here (the local bucket is {bucket.name!r})")
            return bucket

        return make_handler(store_for)

    def _lambda_context(self, function_arn: str):
        from autotagger.local.lambda_context import LambdaContext

        return LambdaContext(function_arn.rpartition(":")[2], region=self.settings.region,
                             account=self.settings.account)

    def _stream_consumer(self):
        """Lambda's event source mapping feeding an indexer handler built, by the Lambda's own
        factory, around this pipeline's index."""
        for name, value in _POWERTOOLS_LOCAL_DEFAULTS.items():
            os.environ.setdefault(name, value)
        # With metrics disabled every invocation flushes an empty metric set, and Powertools warns.
        warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
        from autotagger.local.event_source_mapping import StreamConsumer
        from autotagger.stream_indexer import make_handler

        index = self._with_faults("index", self.stores.index)
        return StreamConsumer(self.stores.stream, make_handler(lambda: index), on_failure=self.stores.indexer_dlq,
                              name=INDEXER_CONSUMER, **self._consumer_options)

    # -- the API the server and the CLI use --------------------------------------------------

    @property
    def bucket_name(self) -> str:
        return self.settings.bucket

    @property
    def index(self):
        return self.stores.index

    @property
    def labeler(self) -> Labeler:
        """The labeler the workflow calls (fault wrappers included); `reprocess` names its runs by
        the model version. Built by `start()`, or given to the constructor."""
        if self._labeler is None:
            raise RuntimeError("the pipeline's labeler exists once the pipeline has started")
        return self._labeler

    @property
    def completed(self) -> int:
        """Executions finished since start (progress bars read it)."""
        return self._runner.completed if self._runner is not None else 0

    def upload(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> StoredObject:
        """Stores the object and returns once its tagging execution is durably pending."""
        from autotagger.local.s3_events import object_created_event

        self._require_started()
        assert self._router is not None, "start() built it"
        stored = self.stores.bucket.put(key, data, content_type)
        self._router.publish(object_created_event(stored, region=self.settings.region, account=self.settings.account))
        return stored

    def delete(self, key: str) -> StoredObject | None:
        """Deletes the object; its delete event flows through the workflow to the index."""
        from autotagger.local.s3_events import object_deleted_event

        self._require_started()
        assert self._router is not None, "start() built it"
        deleted = self.stores.bucket.delete(key)
        if deleted is not None:
            self._router.publish(object_deleted_event(deleted, region=self.settings.region,
                                                      account=self.settings.account))
        return deleted

    # The server's read routes ask the running pipeline (its tests stand a fake pipeline in for it).
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
        """Workflow dead letters run the workflow again on their original event; indexer dead
        letters put their records back on the stream (`autotagger.local.redrive`)."""
        from autotagger.local.redrive import redrive

        self._require_started()
        assert self._runner is not None, "start() built it"
        return redrive(message_ids, workflow_dlq=self.stores.workflow_dlq, indexer_dlq=self.stores.indexer_dlq,
                       stream=self.stores.stream, start_execution=self._runner.start)

    @cached_property
    def image_urls(self):
        """Signed, expiring URLs to the bucket's objects (the server's `/v1/_local/...` routes check them)."""
        from autotagger.local.read_adapters import LocalImageUrls, signing_secret

        return LocalImageUrls(signing_secret(self.settings.data_dir), self.bucket_name)

    @cached_property
    def read_api(self):
        """The `/v1` read routes (`autotagger.api.service.ReadApi`) over this pipeline's stores, as the
        API Lambda serves them over Step Functions, SQS and S3."""
        from autotagger.api.service import ReadApi
        from autotagger.local.read_adapters import (
            LocalDeadLetterQueueView,
            LocalExecutionLookup,
            carries_event,
            carries_records,
        )
        from autotagger.local.redrive import redrive_batch, rerun_dead_letter

        stores = self.stores
        queues = [
            LocalDeadLetterQueueView("workflow", stores.workflow_dlq,
                                     lambda letter: rerun_dead_letter(letter, self.start_execution), carries_event),
            LocalDeadLetterQueueView("indexer", stores.indexer_dlq,
                                     lambda letter: redrive_batch(stores.stream, letter.body), carries_records),
        ]
        return ReadApi(stores.index, LocalExecutionLookup(stores.executions, stores.execution_arn), queues,
                       self.image_urls)

    def start_execution(self, event: dict[str, Any], name: str) -> bool:
        """Runs the workflow on `event` as execution `name` (used by `autotagger reprocess`); a name
        that already ran or is pending is not run again (idempotent). True if it was not seen before."""
        self._require_started()
        assert self._runner is not None, "start() built it"
        return self._runner.start(event, name)

    def run_backfill(self, input: dict[str, Any], name: str, progress: Any = None) -> Any:
        """Runs statemachine/backfill.asl.json (the Distributed Map `autotagger reprocess` uses) to
        its end in this thread, its items as child executions of the tagging workflow
        (`autotagger.local.backfill`); returns the backfill's Execution. `progress` gets each Map Run
        record (DescribeMapRun-shaped) as its counts change."""
        from autotagger.local import backfill

        self._require_started()
        assert self._state_machine is not None and self._registry is not None, "start() built them"
        registry = (self._task_registry()
                    .register(backfill.LIST_OBJECTS_V2_ARN, backfill.list_objects_adapter(self.stores.bucket))
                    .register(backfill.PUT_OBJECT_ARN, backfill.put_object_adapter(self.stores.backfill_results))
                    .register(backfill.START_EXECUTION_SYNC_ARN, backfill.start_execution_sync_adapter(
                        self._state_machine, self._registry, self.stores.executions, sleeper=self._sleeper)))
        machine = backfill.backfill_state_machine(self.settings, self._state_machine.arn,
                                                  **({"sleeper": self._sleeper} if self._sleeper else {}))
        listener = (self.stores.executions if progress is None
                    else backfill.MapRunProgress(self.stores.executions, progress))
        return machine.run(input, registry, execution_name=name, listener=listener)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Blocks until no execution is pending or running and the stream is fully consumed.
        False if `timeout` passed first."""
        deadline = time.monotonic() + timeout
        if self._runner is not None and not self._runner.wait_idle(timeout):
            return False
        while self.stores.stream_records_pending():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def _require_started(self) -> None:
        if not self._started:
            raise RuntimeError("the pipeline is not started (use `with Pipeline(...)` or call start())")
