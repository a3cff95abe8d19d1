"""Fault injection behind the ports: wrappers that make a healthy adapter misbehave on purpose.

The adapters stay clean; a `FaultPlan` wraps them where the runtime composes the system
(`Pipeline(faults=...)`, or `--fault SPEC` on `autotagger serve | tag | dlq redrive | reprocess`).
Each failure is the error the AWS service would answer with, so the workflow's Retry/Catch, the
stream consumer's retries and the dead-letter paths are exercised exactly as on AWS.

A spec is `PORT.KIND[=AMOUNT]`; AMOUNT is a count of calls (`3`: the first 3 calls), a duration
(`10s`, `500ms`: from the first call to that port for that long), or absent (every call):

- `labeler.throttle=N`: DetectLabels raises `Rekognition.ThrottlingException`. Outcome: retried (ASL), then
  tagged.
- `labeler.internal=N`: DetectLabels raises `Rekognition.InternalServerError`. Outcome: retried (ASL), then
  tagged.
- `labeler.fail[=N]`: DetectLabels raises `Rekognition.AccessDeniedException` (not retryable). Outcome: dead
  letter.
- `labeler.slow=DURATION`: every DetectLabels call takes DURATION longer. Outcome: tagged, later.
- `labeler.quota=RATE`: at most RATE DetectLabels calls per second (a token bucket holding RATE tokens,
  refilled at RATE per second); the others raise `Rekognition.ThrottlingException`, as Rekognition answers
  calls above its TPS quota. Outcome: retried (ASL) until a token is free, then tagged.
- `text.throttle=N`, `text.internal=N`, `text.fail[=N]`, `text.slow=DURATION`: the same for DetectText (the
  local text detector). Outcome of `text.fail`: the text branch records the error in the document's
  `analysis_errors`; the image is still tagged.
- `moderation.throttle=N`, `moderation.internal=N`, `moderation.fail[=N]`, `moderation.slow=DURATION`: the
  same for DetectModerationLabels. Outcome of `moderation.fail`: recorded in `analysis_errors`, still tagged.
- `stream.throttle=N`: PutRecord raises `Kinesis.ProvisionedThroughputExceededException`. Outcome: retried
  (ASL), then tagged.
- `stream.internal=N`: PutRecord raises `Kinesis.InternalFailureException`. Outcome: retried (ASL), then
  tagged.
- `stream.fail[=N]`: PutRecord raises `Kinesis.AccessDeniedException` (not retryable). Outcome: dead letter.
- `index.down=N|DURATION`: every bulk write raises ConnectionError (index unreachable). Outcome: records wait
  in the stream, retried with backoff, indexed after recovery.
- `index.partial=N`: every second item of a bulk write (the only one of a single-item write) fails with
  `status: error`; the rest is written. Outcome: failed items retried, then indexed.
- `index.slow=DURATION`: every bulk write takes DURATION longer. Outcome: indexed, later.

An outage longer than the stream consumer's retry budget (5 retries with exponential backoff
from 0.5 s, about 8 to 15 s) sends its records to the indexer dead-letter queue instead; `autotagger
dlq redrive` puts them back once the index is up. Reads from the index are never failed, so the
dashboard keeps showing what waits.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from autotagger.errors import ServiceError, UserError

log = logging.getLogger(__name__)

KINDS: dict[str, tuple[str, ...]] = {
    "labeler": ("throttle", "internal", "fail", "slow", "quota"),
    "text": ("throttle", "internal", "fail", "slow"),
    "moderation": ("throttle", "internal", "fail", "slow"),
    "stream": ("throttle", "internal", "fail", "slow"),
    "index": ("down", "partial", "slow"),
}
PORTS = tuple(KINDS)
# The error each kind raises, per port: (service, code, retryable).
_ERRORS: dict[tuple[str, str], tuple[str, str, bool]] = {
    ("labeler", "throttle"): ("Rekognition", "ThrottlingException", True),
    ("labeler", "internal"): ("Rekognition", "InternalServerError", True),
    ("labeler", "fail"): ("Rekognition", "AccessDeniedException", False),
    ("labeler", "quota"): ("Rekognition", "ThrottlingException", True),
    **{(analysis, kind): error for analysis in ("text", "moderation") for kind, error in {
        "throttle": ("Rekognition", "ThrottlingException", True),
        "internal": ("Rekognition", "InternalServerError", True),
        "fail": ("Rekognition", "AccessDeniedException", False)}.items()},
    ("stream", "throttle"): ("Kinesis", "ProvisionedThroughputExceededException", True),
    ("stream", "internal"): ("Kinesis", "InternalFailureException", True),
    ("stream", "fail"): ("Kinesis", "AccessDeniedException", False),
}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m)$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0}


class FaultSpecError(UserError, ValueError):
    """A fault spec that does not parse; the message says what would (one line on the CLI)."""


class InjectedServiceError(ServiceError):
    """A service error raised on purpose by a fault wrapper (named like the real one)."""

    def __init__(self, message: str, *, service: str, code: str, retryable: bool):
        super().__init__(message, service=service, code=code)
        self.retryable = retryable


class IndexUnavailable(ConnectionError):
    """What a bulk request to an unreachable index raises (injected)."""


class TokenBucket:
    """A service's TPS quota: `rate` tokens a second, at most `capacity` (default: `rate`, at least
    one) saved up; a call takes one.

    Thread-safe; `clock` is injectable (seconds, monotonic). A refused call takes no token, as a
    throttled request does not count against the quota it was refused by."""

    def __init__(self, rate: float, capacity: float | None = None, *, clock: Callable[[], float] = time.monotonic):
        if rate <= 0:
            raise ValueError(f"a token bucket needs a positive rate, not {rate!r}")
        self.rate = float(rate)
        self.capacity = float(capacity if capacity is not None else max(rate, 1.0))
        if self.capacity < 1:
            raise ValueError(f"a token bucket must hold at least one token, not {self.capacity!r}")
        self._clock = clock
        self._tokens = self.capacity  # starts full: a quiet service admits a burst of `capacity` at once
        self._last: float | None = None
        self._lock = threading.Lock()

    def take(self) -> bool:
        """True (one token taken) if the call is within the quota, False if it is to be throttled."""
        with self._lock:
            now = self._clock()
            if self._last is not None:
                self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False


@dataclass
class Fault:
    """One injected fault: which port, what kind, and for how many calls or how long."""

    port: str
    kind: str
    calls: int | None = None  # the first N calls; None with seconds None: every call
    seconds: float | None = None  # a window from the first call (or, for `slow`, the added delay)
    injected: int = 0  # how many times it fired
    rate: float | None = None  # `quota`: calls admitted per second
    _started: float | None = field(default=None, repr=False)
    _bucket: TokenBucket | None = field(default=None, repr=False)
    _seen: int = field(default=0, repr=False)

    @property
    def spec(self) -> str:
        if self.rate is not None:
            return f"{self.port}.{self.kind}={self.rate:g}"
        amount = (
            ""
            if self.calls is None and self.seconds is None
            else f"={self.calls}"
            if self.calls is not None
            else f"={self.seconds:g}s"
        )
        return f"{self.port}.{self.kind}{amount}"

    def fires(self, clock: Callable[[], float]) -> bool:
        """Counts a call to the port; True if this call is to fail (or be slowed)."""
        self._seen += 1
        if self.kind == "slow":
            return True
        if self.kind == "quota":
            if self._bucket is None:  # made on first use, so it runs on the plan's clock
                if self.rate is None:
                    raise ValueError(f"{self.port}.quota needs a rate (calls per second)")
                self._bucket = TokenBucket(self.rate, clock=clock)
            return not self._bucket.take()
        if self.calls is not None:
            return self._seen <= self.calls
        if self.seconds is not None:
            now = clock()
            if self._started is None:
                self._started = now
            return now - self._started < self.seconds
        return True


def parse_spec(text: str) -> Fault:
    """`labeler.throttle=3` -> Fault("labeler", "throttle", calls=3); see the module docs."""
    if not isinstance(text, str) or not text.strip():
        raise FaultSpecError("a fault spec is PORT.KIND[=AMOUNT], e.g. labeler.throttle=3 or index.down=10s")
    name, _, amount = text.strip().partition("=")
    port, _, kind = name.partition(".")
    if port not in KINDS:
        raise FaultSpecError(f"fault {text!r}: unknown port {port!r}; choose one of {', '.join(PORTS)}")
    if kind not in KINDS[port]:
        raise FaultSpecError(f"fault {text!r}: {port} faults are {', '.join(KINDS[port])}")
    fault = Fault(port, kind)
    amount = amount.strip()
    if kind == "quota":
        try:
            fault.rate = float(amount)
        except ValueError:
            fault.rate = None
        if fault.rate is None or not (math.isfinite(fault.rate) and fault.rate > 0):
            raise FaultSpecError(
                f"fault {text!r}: a quota is the calls admitted per second, a positive number, e.g. {port}.quota=5"
            )
        return fault
    if amount:
        if amount.isdigit():
            fault.calls = int(amount)
        else:
            match = _DURATION.match(amount)
            if not match:
                raise FaultSpecError(
                    f"fault {text!r}: the amount is a number of calls (3) or a duration "
                    f"(500ms, 10s, 2m), not {amount!r}"
                )
            fault.seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if kind == "slow" and fault.seconds is None:
        raise FaultSpecError(f"fault {text!r}: a slow port needs a duration, e.g. {port}.slow=50ms")
    if kind == "partial" and fault.seconds is None and fault.calls is None:
        fault.calls = 1
    if kind in ("throttle", "internal") and fault.calls is None and fault.seconds is None:
        raise FaultSpecError(
            f"fault {text!r}: say for how many calls or how long, e.g. {port}.{kind}=3 (for every call use {port}.fail)"
        )
    return fault


class FaultPlan:
    """The faults of one run; wraps ports and counts what it injected (thread-safe)."""

    def __init__(
        self,
        faults: Iterable[Fault | str] = (),
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.faults = [f if isinstance(f, Fault) else parse_spec(f) for f in faults]
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()

    @classmethod
    def parse(cls, specs: Iterable[str], **options: Any) -> FaultPlan:
        return cls([parse_spec(s) for s in specs], **options)

    def __bool__(self) -> bool:
        return bool(self.faults)

    def injected(self) -> dict[str, int]:
        """{spec: times fired}, for reports and tests."""
        with self._lock:
            return {f.spec: f.injected for f in self.faults}

    def wrap(self, port: str, adapter: Any) -> Any:
        """The adapter itself when no fault targets `port`, else a faulty wrapper around it."""
        if not any(f.port == port for f in self.faults):
            return adapter
        wrapper = {"labeler": FaultyLabeler, "text": FaultyTextDetector, "moderation": FaultyModerationDetector,
                   "stream": FaultyRecordStream, "index": FaultyIndex}[port]
        return wrapper(adapter, self)

    # -- used by the wrappers ------------------------------------------------------------

    def _firing(self, port: str) -> list[Fault]:
        """The faults of `port` that fire on this call (each call counts for every fault)."""
        with self._lock:
            fired = [f for f in self.faults if f.port == port and f.fires(self._clock)]
            for f in fired:
                f.injected += 1
        return fired

    def _slowed(self, port: str) -> list[Fault]:
        """The faults that fire on this call, after sleeping for its `slow` ones."""
        fired = self._firing(port)
        for fault in fired:
            if fault.kind == "slow":
                self._sleep(fault.seconds or 0.0)
        return fired

    def _before_call(self, port: str) -> list[Fault]:
        """Sleeps for `slow` faults, raises for error faults; returns the faults that fired."""
        fired = self._slowed(port)
        for fault in fired:
            error = _ERRORS.get((port, fault.kind))
            if error is not None:
                service, code, retryable = error
                log.warning("fault injected: %s (%d so far)", fault.spec, fault.injected)
                raise InjectedServiceError(
                    f"injected fault {fault.spec}: {service} answered {code}",
                    service=service,
                    code=code,
                    retryable=retryable,
                )
        return fired


class _Wrapper:
    """The wrappers implement their port's every method (forwarding what they do not fail); anything
    else an adapter offers beyond its port (e.g. the local stream's `pending`) is forwarded too."""

    def __init__(self, inner: Any, plan: FaultPlan):
        self._inner = inner
        self._plan = plan

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class FaultyLabeler(_Wrapper):
    """`ports.Labeler` that throttles, errs or slows down as planned, then asks the real labeler."""

    def detect_labels(self, image_bytes: bytes, max_labels: int = 100, min_confidence: float = 55.0) -> dict[str, Any]:
        self._plan._before_call("labeler")
        return self._inner.detect_labels(image_bytes, max_labels=max_labels, min_confidence=min_confidence)

    @property
    def model_version(self) -> str | None:
        return self._inner.model_version


class FaultyTextDetector(_Wrapper):
    """`ports.TextDetector` that throttles, errs or slows down as planned, then asks the real one."""

    def detect_text(self, image_bytes: bytes) -> dict[str, Any]:
        self._plan._before_call("text")
        return self._inner.detect_text(image_bytes)


class FaultyModerationDetector(_Wrapper):
    """`ports.ModerationDetector` that throttles, errs or slows down as planned, then asks the real one."""

    def detect_moderation_labels(self, image_bytes: bytes, min_confidence: float = 50.0) -> dict[str, Any]:
        self._plan._before_call("moderation")
        return self._inner.detect_moderation_labels(image_bytes, min_confidence=min_confidence)


class FaultyRecordStream(_Wrapper):
    """`ports.RecordStream` whose PutRecord fails as planned (nothing is stored when it fails)."""

    def put_record(self, data: bytes, partition_key: str) -> dict[str, str]:
        self._plan._before_call("stream")
        return self._inner.put_record(data, partition_key)

    def close(self) -> None:
        self._inner.close()


class FaultyIndex(_Wrapper):
    """`ports.ImageIndex` whose bulk writes fail as planned; reads are passed through untouched.

    `down`: the whole write raises (nothing written). `partial`: every second action answers
    `status: error` without being written, the others are written by the real index."""

    def apply(self, actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        fired = self._plan._slowed("index")
        down = next((f for f in fired if f.kind == "down"), None)
        if down is not None:
            log.warning("fault injected: %s (bulk write of %d action(s) refused)", down.spec, len(actions))
            raise IndexUnavailable(f"injected fault {down.spec}: the index is unreachable")
        if any(f.kind == "partial" for f in fired) and actions:
            failing = set(range(1, len(actions), 2)) if len(actions) > 1 else {0}
            written = self._inner.apply([a for i, a in enumerate(actions) if i not in failing])
            results, done = [], iter(written)
            for i, action in enumerate(actions):
                results.append(
                    {
                        "id": action.get("id"),
                        "status": "error",
                        "error": "injected fault index.partial: 429 es_rejected_execution_exception",
                    }
                    if i in failing
                    else next(done)
                )
            log.warning("fault injected: index.partial (%d of %d item(s) failed)", len(failing), len(actions))
            return results
        return self._inner.apply(actions)

    # Reads are never failed: the dashboard keeps showing what waits.
    def get(self, doc_id: str) -> dict[str, Any] | None:
        return self._inner.get(doc_id)

    def search(
        self,
        tags: list[str] | None = None,
        min_confidence: float = 0.0,
        limit: int = 50,
        cursor: str | None = None,
        since: str | None = None,
        until: str | None = None,
        offset: int = 0,
        text: str | None = None,
        safe: bool = False,
    ) -> dict[str, Any]:
        return self._inner.search(
            tags=tags, min_confidence=min_confidence, limit=limit, cursor=cursor, since=since, until=until,
            offset=offset, text=text, safe=safe,
        )

    def tag_counts(
        self, top: int = 20, min_confidence: float = 0.0, since: str | None = None, until: str | None = None
    ) -> list[dict[str, Any]]:
        return self._inner.tag_counts(top=top, min_confidence=min_confidence, since=since, until=until)

    def image_counts(
        self, interval: str = "day", since: str | None = None, until: str | None = None, min_confidence: float = 0.0
    ) -> list[dict[str, Any]]:
        return self._inner.image_counts(interval=interval, since=since, until=until, min_confidence=min_confidence)

    def count(self) -> int:
        return self._inner.count()

    def analysis_counts(self) -> dict[str, int]:
        return self._inner.analysis_counts()

    def close(self) -> None:
        self._inner.close()


def add_fault_options(parser: Any) -> None:
    """`--fault SPEC` (repeatable) on a command that runs the local pipeline."""
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="inject a fault for demos and drills, e.g. labeler.throttle=3, labeler.quota=5, text.fail, "
        "index.down=10s (repeatable; see autotagger.faults)",
    )
