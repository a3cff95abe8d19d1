"""How many intra-op threads each onnxruntime session gets: the cores split between concurrent callers."""

from __future__ import annotations

import pytest

from autotagger.labeler import onnx_session


@pytest.fixture
def cores(monkeypatch):
    monkeypatch.delenv("AUTOTAGGER_ONNX_THREADS", raising=False)

    def set_cores(n):
        monkeypatch.setattr(onnx_session.os, "cpu_count", lambda: n)

    return set_cores


def test_GIVEN_one_caller_WHEN_sizing_the_session_THEN_onnxruntime_uses_every_core(cores):
    cores(8)
    assert onnx_session.intra_op_threads(1) == 0 == onnx_session.intra_op_threads()


@pytest.mark.parametrize("n_cores, callers", [(2, 2), (8, 2), (8, 3), (16, 4), (2, 3), (1, 4)])
def test_GIVEN_several_callers_WHEN_sizing_the_session_THEN_the_cores_are_split_between_them(cores, n_cores, callers):
    cores(n_cores)
    threads = onnx_session.intra_op_threads(callers)
    assert threads >= 1
    assert threads * callers <= max(n_cores, callers)
    assert (threads + 1) * callers > n_cores


def test_GIVEN_the_environment_override_WHEN_sizing_the_session_THEN_it_wins_for_any_caller_count(cores, monkeypatch):
    cores(8)
    monkeypatch.setenv("AUTOTAGGER_ONNX_THREADS", "3")
    assert [onnx_session.intra_op_threads(n) for n in (1, 2, 8)] == [3, 3, 3]
    monkeypatch.setenv("AUTOTAGGER_ONNX_THREADS", "0")
    assert onnx_session.intra_op_threads(4) == 0

