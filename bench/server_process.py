"""`autotagger serve` in a subprocess on a free loopback port with a fresh data directory, and a
small HTTP client for it (upload, wait until searchable)."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from autotagger.config import DEFAULT_BUCKET

_SERVING = re.compile(r"on (http://[^\s]+)")


class ServerProcess:
    def __init__(self, data_dir: Path, extra_args: list[str] | None = None, env: dict[str, str] | None = None):
        self.data_dir = data_dir
        self.args = [sys.executable, "-m", "autotagger", "serve", "--host", "127.0.0.1", "--port", "0",
                     "--data-dir", str(data_dir), *(extra_args or [])]
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen | None = None
        self.url = ""
        self._lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 120.0) -> ServerProcess:
        self.process = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        env=self.env, start_new_session=True)
        threading.Thread(target=self._pump, daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            match = _SERVING.search(line)
            if "serving" in line and match:
                self.url = match.group(1).rstrip("/")
                return self
        self.stop()
        raise RuntimeError("autotagger serve did not start:\n" + "".join(self.output[-30:]))

    def _pump(self) -> None:
        assert self.process and self.process.stdout
        for line in self.process.stdout:
            self.output.append(line)
            self._lines.put(line)

    @property
    def pid(self) -> int:
        assert self.process
        return self.process.pid

    def stop(self, timeout: float = 30.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # uvicorn shuts down on SIGTERM, the pipeline closes its files
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Client:
    """Uploads through `PUT /v1/{bucket}/{key}` and asks the index through `/v1/images`."""

    def __init__(self, url: str, bucket: str = DEFAULT_BUCKET):
        import httpx

        self.bucket = bucket
        self.http = httpx.Client(base_url=url, timeout=60.0)

    def close(self) -> None:
        self.http.close()

    def upload(self, key: str, data: bytes) -> None:
        answer = self.http.put(f"/v1/{self.bucket}/{key}", content=data, headers={"content-type": "image/jpeg"})
        answer.raise_for_status()

    def indexed(self) -> int:
        answer = self.http.get("/v1/images", params={"limit": 0})
        answer.raise_for_status()
        return int(answer.json()["total"])

    def searchable(self, key: str) -> bool:
        from autotagger.domain.documents import document_id

        return self.http.get(f"/v1/images/{document_id(self.bucket, key)}").status_code == 200

    def wait_indexed(self, count: int, timeout: float, poll: float = 0.025) -> float:
        """Blocks until the index holds `count` images; returns the moment (perf_counter) it did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.indexed() >= count:
                return time.perf_counter()
            time.sleep(poll)
        raise TimeoutError(f"index did not reach {count} images in {timeout} s (has {self.indexed()})")

    def last_indexed_at(self, count: int) -> float:
        """When the last of the index's `count` newest documents was indexed (their `indexed_at`, the
        indexer's wall clock on this machine), as seconds since the epoch."""
        from datetime import datetime

        answer = self.http.get("/v1/images", params={"limit": count})
        answer.raise_for_status()
        stamps = [image["indexed_at"] for image in answer.json()["images"] if image.get("indexed_at")]
        if len(stamps) < count:
            raise RuntimeError(f"{len(stamps)} of {count} documents carry indexed_at")
        return max(datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() for s in stamps)

    def summary(self) -> dict[str, Any]:
        return self.http.get("/v1/summary").json()
