"""The Postman collection, run by newman against the real local server (`autotagger serve`)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from newman_support import API_KEY


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def keyed_server(tmp_path_factory):
    """The real pipeline behind `autotagger serve`, requiring an x-api-key (as API Gateway does)."""
    port = _free_port()
    autotagger = shutil.which("autotagger", path=str(Path(sys.executable).parent)) or "autotagger"
    log = tmp_path_factory.mktemp("serve-log") / "serve.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [autotagger, "serve", "--host", "127.0.0.1", "--port", str(port), "--api-key", API_KEY,
             "--data-dir", str(tmp_path_factory.mktemp("autotagger-data"))],
            stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/healthz", headers={"x-api-key": API_KEY}, timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"autotagger serve did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
    yield url
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
