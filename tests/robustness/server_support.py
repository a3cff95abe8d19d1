"""Servers in subprocesses for robustness tests: the real `autotagger serve`, or the same server
with the fast labeler (`fake_server`), started in a working directory of the test's choosing so
stray files would show up there."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
_URL = re.compile(r"on (http://[^\s]+) ")


class Server:
    def __init__(self, data_dir: Path, log_path: Path, *, fast: bool = True, args: list[str] | None = None,
                 cwd: Path | None = None):
        self.data_dir, self.log_path, self.fast = data_dir, log_path, fast
        self.args = args or []
        self.cwd = cwd or REPO
        self.process: subprocess.Popen | None = None
        self.url = ""

    def start(self, timeout: float = 60.0) -> Server:
        command = ([sys.executable, "-m", "tests.robustness.fake_server"] if self.fast
                   else [sys.executable, "-m", "autotagger", "serve", "--host", "127.0.0.1", "--port", "0"])
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(REPO)}
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - the server writes to it until stop() closes it
        self.process = subprocess.Popen([*command, "--data-dir", str(self.data_dir), *self.args], cwd=self.cwd,
                                        env=env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log()}")
            parts = self.log().rsplit("autotagger: serving", 1)
            match = _URL.search(parts[1]) if len(parts) == 2 else None
            if match:
                self.url = match.group(1)
                try:
                    if httpx.get(f"{self.url}/healthz", timeout=1).status_code in (200, 401):  # 401: keyed
                        return self
                except httpx.TransportError:
                    pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"server did not start within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        if self.alive:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self._log.close()

    def stop(self) -> None:
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()
