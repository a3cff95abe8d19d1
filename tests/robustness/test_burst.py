"""A burst of uploads above the DetectLabels quota (`labeler.quota=5`) is absorbed by the ASL's
throttling Retry: every image ends indexed, none as a dead letter, and the execution histories show
the throttled attempts that were retried. Real time: the token bucket refills on the clock and the
workflow sleeps its jittered backoff for real (the drain of 60 uploads at 5/s takes ~15-30 s)."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from autotagger.config import Settings
from autotagger.faults import FaultPlan
from bench.bench_burst import THROTTLED, throttled_attempts, transitions
from tests.fakes import FakeLabeler, fake_analysers

from .conftest import upload
from .fast_labeler import small_png
from .invariant import Ledger, assert_invariant, wait_settled

UPLOADS = 60
RATE = 50.0   # uploads per second, ten times the quota
QUOTA = 5


@pytest.fixture(scope="module")
def burst(tmp_path_factory):
    """One burst, read by every test of this module (it takes real time)."""
    from autotagger.local.runtime import Pipeline

    plan = FaultPlan.parse([f"labeler.quota={QUOTA}"])
    # Four labeler slots, eight executions at once: more callers than the quota admits.
    pipeline = Pipeline(Settings(data_dir=tmp_path_factory.mktemp("burst") / "data", workers=4), labeler=FakeLabeler(model_version="fast-1"), faults=plan,
                        consumer_options={"backoff_base_s": 0.01, "backoff_max_s": 0.05}, **fake_analysers())
    pipeline.start()
    ledger = Ledger()
    start = time.perf_counter()
    for i in range(UPLOADS):
        time.sleep(max(0.0, start + i / RATE - time.perf_counter()))
        upload(pipeline, ledger, f"burst/{i:03d}.png", small_png(i))
    assert pipeline.wait_idle(timeout=300), "the burst did not drain in 300 s"
    assert wait_settled(pipeline.stores, timeout=30)
    yield pipeline, ledger, plan
    pipeline.close()


def _executions(pipeline) -> list[dict]:
    return [pipeline.stores.executions.get(e["executionArn"])
            for e in pipeline.stores.executions.list(limit=10_000)]


def _detect_labels(history: list[dict]) -> list[tuple[str, object]]:
    """(outcome, timestamp) of every DetectLabels attempt: 'ok' or the error name."""
    attempts = []
    for event in history:
        details = event.get("taskFailedEventDetails") or event.get("taskSucceededEventDetails")
        if details and details.get("resource") == "detectLabels":
            attempts.append((details.get("error") or "ok", event["timestamp"]))
    return attempts


def test_GIVEN_a_burst_of_ten_times_the_quota_WHEN_drained_THEN_every_image_is_indexed_and_none_dead_lettered(burst):
    pipeline, ledger, _ = burst

    report = assert_invariant(pipeline.stores, ledger)

    assert len(report.indexed) == UPLOADS and report.dead_lettered == []
    assert pipeline.stores.workflow_dlq.count() == 0 and pipeline.stores.indexer_dlq.count() == 0
    assert pipeline.stores.executions.counts() == {"SUCCEEDED": UPLOADS}


def test_GIVEN_a_burst_WHEN_drained_THEN_the_histories_show_throttled_attempts_each_retried_until_it_succeeded(burst):
    pipeline, _, plan = burst
    executions = _executions(pipeline)

    throttles = [throttled_attempts(e["history"]) for e in executions]
    assert sum(throttles) == plan.injected()[f"labeler.quota={QUOTA}"] > 0
    for execution in executions:
        outcomes = [outcome for outcome, _ in _detect_labels(execution["history"])]
        assert outcomes == [THROTTLED] * (len(outcomes) - 1) + ["ok"], execution["name"]
    # Each retry is one more billed state transition than the path without retries.
    baseline = min(transitions(e["history"]) for e in executions)
    assert [transitions(e["history"]) for e in executions] == [baseline + n for n in throttles]


def test_GIVEN_a_burst_WHEN_drained_THEN_detectlabels_never_admitted_more_than_the_quota(burst):
    pipeline, _, _ = burst
    admitted = sorted(datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp() for e in _executions(pipeline)
                      for outcome, moment in _detect_labels(e["history"]) if outcome == "ok")

    assert len(admitted) == UPLOADS
    # A bucket of QUOTA tokens refilled at QUOTA a second admits at most 2 x QUOTA in any second
    # (one more for the few milliseconds between a call and its history event).
    busiest = max(sum(1 for t in admitted[i:] if t < first + 1.0) for i, first in enumerate(admitted))
    assert busiest <= 2 * QUOTA + 1
    # Draining 60 images at 5 a second takes at least 11 s after the first 5 went through at once.
    assert admitted[-1] - admitted[0] >= (UPLOADS - QUOTA) / QUOTA - 0.5
