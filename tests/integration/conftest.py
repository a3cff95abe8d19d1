"""Real `autotagger serve` processes on free loopback ports, and the sample photos they tag.

The server runs as a subprocess exactly as a user starts it, with its output in a log file
(a pipe nobody drains would stall it once the access log fills the pipe buffer).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.robustness.server_support import Server


def models_problems() -> list[str]:
    from autotagger.models import cache

    return cache.problems()


def sample_photo(name: str) -> bytes:
    """A photo shipped inside scikit-image (no download)."""
    import skimage

    return (Path(skimage.__file__).parent / "data" / name).read_bytes()


class ServerProcess(Server):
    """The real `autotagger serve` with the real local labeler (the robustness tests' `Server`,
    which can also run a fast fake labeler, without it)."""

    def __init__(self, data_dir: Path, log_path: Path, extra_args: list[str] | None = None):
        super().__init__(data_dir, log_path, fast=False, args=extra_args)


def wait_for(check: Callable[[], object], timeout: float = 30.0, interval: float = 0.05):
    """Polls until `check()` returns something truthy; returns it, or fails the test."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(interval)


@pytest.fixture(scope="session")
def models_ready():
    problems = models_problems()
    if problems:
        pytest.fail(f"local models not built ({'; '.join(problems)}): run `autotagger models build`")


@pytest.fixture(scope="module")
def server(models_ready, tmp_path_factory):
    """One real server per test module, on its own data dir."""
    directory = tmp_path_factory.mktemp("server")
    process = ServerProcess(directory / "data", directory / "server.log").start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client
