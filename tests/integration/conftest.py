"""Real `autotagger serve` processes on free loopback ports, and the sample photos they tag.

The server runs as a subprocess exactly as a user starts it, with its output in a log file
(a pipe nobody drains would stall it once the access log fills the pipe buffer).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
_URL = re.compile(r"on (http://[^\s]+) ")


def models_problems() -> list[str]:
    from autotagger.models import cache

    return cache.problems()


def sample_photo(name: str) -> bytes:
    """A photo shipped inside scikit-image (no download)."""
    import skimage

    return (Path(skimage.__file__).parent / "data" / name).read_bytes()


class ServerProcess:
    def __init__(self, data_dir: Path, log_path: Path, extra_args: list[str] | None = None):
        self.data_dir = data_dir
        self.log_path = log_path
        self.extra_args = extra_args or []
        self.process: subprocess.Popen | None = None
        self.url = ""

    def start(self, timeout: float = 60.0) -> "ServerProcess":
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "autotagger", "serve", "--host", "127.0.0.1", "--port", "0",
             "--data-dir", str(self.data_dir), *self.extra_args],
            cwd=REPO, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log()}")
            match = _URL.search(self.log())
            if match:
                self.url = match.group(1)
                if self._healthy():
                    return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server did not start within {timeout} s:\n{self.log()}")

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1,
                             headers=self.headers()).status_code in (200, 401)
        except httpx.TransportError:
            return False

    def headers(self) -> dict[str, str]:
        return {}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: what a crash or a power cut does (no shutdown code runs)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self._log.close()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()


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
