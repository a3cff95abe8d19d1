"""A few hundred uploads at once through the real server (fast labeler behind the port): the
invariant holds for every one, and the server's memory stays bounded (peak RSS reported)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from autotagger.config import Settings
from autotagger.local.stores import LocalStores
from tests.robustness.fast_labeler import small_png
from tests.robustness.invariant import Ledger, assert_invariant, outbox_pending
from tests.robustness.server_support import Server

pytestmark = [pytest.mark.integration]

UPLOADS = 300
CLIENTS = 8
WARM_UP = 100
PEAK_RSS_LIMIT_MB = 300  # the fast server runs in about 90 MB
GROWTH_LIMIT_MB = 30     # 200 more uploads after the warm-up: a leak of 150 KB per upload would exceed it


def _rss_mb(pid: int, field: str) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def _settle(http, server) -> None:
    deadline = time.monotonic() + 180
    while True:
        summary = http.get("/v1/summary").json()
        if (outbox_pending(server.data_dir) == 0 and summary["executions"]["RUNNING"] == 0
                and summary["stream_records_pending"] == 0):
            return
        assert time.monotonic() < deadline, f"not settled: {summary}"
        time.sleep(0.1)


def test_GIVEN_300_concurrent_uploads_WHEN_settled_THEN_each_is_indexed_once_and_memory_stays_bounded(tmp_path):
    """A warm-up burst of 100, then 200 more: memory after the second burst stays near the first's."""
    server = Server(tmp_path / "data", tmp_path / "server.log", args=["--workers", "2"]).start()
    ledger = Ledger()
    bodies = {f"load/{i:03d}.png": small_png(1000 + i) for i in range(UPLOADS)}
    statuses: list[int] = []
    try:
        with httpx.Client(base_url=server.url, timeout=60, limits=httpx.Limits(max_connections=CLIENTS)) as http:
            def put(item):
                key, body = item
                response = http.put(f"/v1/image-vaults/load%2F{key.split('/', 1)[1]}", content=body,
                                    headers={"Content-Type": "image/png"})
                if response.status_code == 200:
                    ledger.uploaded(key, body)
                return response.status_code

            started = time.monotonic()
            items = list(bodies.items())
            with ThreadPoolExecutor(CLIENTS) as pool:
                statuses += pool.map(put, items[:WARM_UP])
                _settle(http, server)
                after_warm_up_mb = _rss_mb(server.process.pid, "VmRSS")
                statuses += pool.map(put, items[WARM_UP:])
                _settle(http, server)
            elapsed = time.monotonic() - started
        peak_mb, end_mb = _rss_mb(server.process.pid, "VmHWM"), _rss_mb(server.process.pid, "VmRSS")
    finally:
        server.stop()
    stores = LocalStores(Settings(data_dir=tmp_path / "data"))
    try:
        report = assert_invariant(stores, ledger)
    finally:
        stores.close()
    print(f"{UPLOADS} uploads by {CLIENTS} clients settled in {elapsed:.1f} s; server RSS {after_warm_up_mb:.0f} MB "
          f"after {WARM_UP}, {end_mb:.0f} MB after {UPLOADS}, peak {peak_mb:.0f} MB; {report.summary()}")
    assert statuses == [200] * UPLOADS and len(report.indexed) == UPLOADS
    assert peak_mb < PEAK_RSS_LIMIT_MB and end_mb - after_warm_up_mb < GROWTH_LIMIT_MB
