"""`labeler.quota=RATE`: a token bucket in front of DetectLabels, answering the calls above the
quota with Rekognition's ThrottlingException, as the service does above its TPS quota."""

from __future__ import annotations

import threading

import pytest

from autotagger.faults import FaultPlan, FaultSpecError, InjectedServiceError, TokenBucket, parse_spec
from tests.fakes import FakeLabeler

from .fast_labeler import small_png


class FakeClock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _admitted(bucket: TokenBucket, calls: int) -> int:
    return sum(bucket.take() for _ in range(calls))


def test_GIVEN_a_full_bucket_of_5_per_second_WHEN_20_calls_come_at_once_THEN_5_are_admitted():
    bucket = TokenBucket(5, clock=FakeClock())
    assert _admitted(bucket, 20) == 5


def test_GIVEN_an_empty_bucket_WHEN_time_passes_THEN_it_refills_at_the_rate_and_never_beyond_its_capacity():
    clock = FakeClock()
    bucket = TokenBucket(5, clock=clock)
    _admitted(bucket, 5)
    clock.advance(0.2)  # one token's worth
    assert _admitted(bucket, 3) == 1
    clock.advance(0.1)  # half a token: not a call's worth yet
    assert _admitted(bucket, 3) == 0
    clock.advance(60)  # a quiet minute saves up the capacity only, not 300 calls
    assert _admitted(bucket, 50) == 5


def test_GIVEN_a_steady_flood_WHEN_run_for_10_seconds_THEN_the_admitted_rate_is_the_quota():
    clock = FakeClock()
    bucket = TokenBucket(5, clock=clock)
    admitted = 0
    for _i in range(641):  # 64 calls a second from 0 s to 10 s (1/64 s is exact in binary)
        admitted += bucket.take()
        clock.advance(1 / 64)
    # The initial burst of 5, then 5 a second for 10 s.
    assert admitted == 5 + 50


def test_GIVEN_a_burst_capacity_larger_than_the_rate_WHEN_called_at_once_THEN_the_capacity_is_admitted():
    bucket = TokenBucket(5, capacity=12, clock=FakeClock())
    assert _admitted(bucket, 30) == 12


def test_GIVEN_a_rate_below_one_per_second_WHEN_called_THEN_one_call_passes_and_the_next_waits_its_turn():
    clock = FakeClock()
    bucket = TokenBucket(0.5, clock=clock)
    assert [bucket.take(), bucket.take()] == [True, False]
    clock.advance(2.0)
    assert bucket.take() is True


@pytest.mark.parametrize("rate", [0, -1])
def test_GIVEN_a_rate_that_is_not_positive_WHEN_made_THEN_a_clear_error(rate):
    with pytest.raises(ValueError, match="positive rate"):
        TokenBucket(rate)


def test_GIVEN_16_threads_calling_at_one_instant_WHEN_done_THEN_exactly_the_capacity_was_admitted():
    clock = FakeClock()
    bucket = TokenBucket(5, capacity=100, clock=clock)
    results: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(16)

    def caller():
        start.wait()
        mine = [bucket.take() for _ in range(50)]
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=caller) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 800 calls raced for 100 tokens: no token was handed out twice, none was lost.
    assert (len(results), sum(results)) == (800, 100)


def test_GIVEN_16_threads_and_a_moving_clock_WHEN_done_THEN_admitted_equals_capacity_plus_refill():
    clock = FakeClock()
    bucket = TokenBucket(10, clock=clock)
    admitted = [0]
    lock = threading.Lock()
    start = threading.Barrier(8)

    def caller():
        start.wait()
        for _ in range(200):
            taken = bucket.take()
            with lock:
                admitted[0] += taken
                clock.advance(0.001)  # every call moves time on by 1 ms, under the same lock

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 1,600 calls over 1.6 s (less the last call's millisecond): 10 saved up + 10/s refilled.
    assert admitted[0] in (10 + 15, 10 + 16)


# -- the fault spec and the wrapped labeler -------------------------------------------------------

def test_GIVEN_the_spec_labeler_quota_5_WHEN_parsed_THEN_a_quota_of_5_calls_per_second():
    fault = parse_spec("labeler.quota=5")
    assert (fault.port, fault.kind, fault.rate, fault.spec) == ("labeler", "quota", 5.0, "labeler.quota=5")


@pytest.mark.parametrize("spec", ["labeler.quota", "labeler.quota=0", "labeler.quota=-2", "labeler.quota=fast",
                                  "labeler.quota=nan", "labeler.quota=inf", "labeler.quota=5s"])
def test_GIVEN_a_quota_that_is_not_a_positive_rate_WHEN_parsed_THEN_the_error_says_what_would_do(spec):
    with pytest.raises(FaultSpecError, match=r"calls admitted per second.*labeler\.quota=5"):
        parse_spec(spec)


def test_GIVEN_a_quota_of_5_WHEN_8_calls_come_at_once_and_5_more_a_second_later_THEN_the_extra_ones_are_throttled_like_rekognition():
    clock = FakeClock()
    inner = FakeLabeler(model_version="fast-1")
    plan = FaultPlan.parse(["labeler.quota=5"], clock=clock)
    labeler = plan.wrap("labeler", inner)
    outcomes = []

    def call():
        try:
            labeler.detect_labels(small_png(1))
            outcomes.append("ok")
        except InjectedServiceError as exc:
            outcomes.append(exc.error_name)
            assert exc.retryable

    for _ in range(8):
        call()
    clock.advance(1.0)
    for _ in range(5):
        call()

    throttled = "Rekognition.ThrottlingException"
    assert outcomes == ["ok"] * 5 + [throttled] * 3 + ["ok"] * 5
    # A throttled call never reaches the labeler (nothing is billed), and the plan counts each one.
    assert (len(inner.calls), plan.injected()) == (10, {"labeler.quota=5": 3})
