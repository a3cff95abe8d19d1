"""FaultPlan on its own: which calls fail, for how long, and what passes through untouched."""

from __future__ import annotations

import pytest

from autotagger.faults import FaultPlan, IndexUnavailable, InjectedServiceError
from tests.fakes import FakeLabeler

from .fast_labeler import small_png


class Index:
    def __init__(self):
        self.applied = []

    def apply(self, actions):
        self.applied += actions
        return [{"id": a["id"], "status": "applied"} for a in actions]

    def count(self):
        return len(self.applied)


def test_GIVEN_throttle_for_2_calls_WHEN_called_4_times_THEN_the_first_2_raise_the_rekognition_error():
    labeler = FaultPlan.parse(["labeler.throttle=2"]).wrap("labeler", FakeLabeler(model_version="fast-1"))
    outcomes = []
    for _ in range(4):
        try:
            labeler.detect_labels(small_png(1))
            outcomes.append("ok")
        except InjectedServiceError as exc:
            outcomes.append(exc.error_name)

    assert outcomes == ["Rekognition.ThrottlingException"] * 2 + ["ok", "ok"]


def test_GIVEN_an_index_down_for_10s_WHEN_called_before_and_after_THEN_only_writes_inside_the_window_fail():
    now = [100.0]
    plan = FaultPlan.parse(["index.down=10s"], clock=lambda: now[0])
    index = plan.wrap("index", Index())
    failed = []
    for t in (100.0, 105.0, 109.9, 110.0, 130.0):
        now[0] = t
        try:
            index.apply([{"id": "a"}])
            failed.append(False)
        except IndexUnavailable:
            failed.append(True)

    assert failed == [True, True, True, False, False]


def test_GIVEN_a_partial_fault_WHEN_four_items_are_written_THEN_items_1_and_3_fail_and_0_and_2_are_written():
    inner = Index()
    index = FaultPlan.parse(["index.partial=1"]).wrap("index", inner)

    results = index.apply([{"id": str(i)} for i in range(4)])

    assert [r["status"] for r in results] == ["applied", "error", "applied", "error"]
    assert [a["id"] for a in inner.applied] == ["0", "2"]


def test_GIVEN_faults_on_other_ports_WHEN_wrapping_the_index_THEN_the_adapter_itself_is_returned():
    index = Index()

    assert FaultPlan.parse(["labeler.fail", "stream.throttle=1"]).wrap("index", index) is index


def test_GIVEN_a_wrapped_index_WHEN_asking_what_the_wrapper_does_not_override_THEN_the_adapter_answers():
    inner = Index()
    inner.applied = [1, 2]

    assert FaultPlan.parse(["index.down=1"]).wrap("index", inner).count() == 2


def test_GIVEN_a_slow_labeler_WHEN_called_THEN_it_waits_the_duration_then_answers():
    waits = []
    labeler = FaultPlan.parse(["labeler.slow=250ms"], sleep=waits.append).wrap("labeler", FakeLabeler(model_version="fast-1"))

    assert labeler.detect_labels(small_png(1))["Labels"][0]["Name"] == "Cat" and waits == [0.25]


@pytest.mark.parametrize("spec, retryable", [("stream.throttle=1", True), ("stream.fail", False)])
def test_GIVEN_a_stream_fault_WHEN_putting_THEN_the_kinesis_error_says_whether_it_is_retryable(spec, retryable):
    class Stream:
        def put_record(self, data, partition_key):  # pragma: no cover - never reached
            raise AssertionError("the record got through")

    with pytest.raises(InjectedServiceError) as raised:
        FaultPlan.parse([spec]).wrap("stream", Stream()).put_record(b"x", "k")

    assert raised.value.service == "Kinesis" and raised.value.retryable is retryable
