"""SIGKILL at several points while a batch of uploads is in flight, then restart: every
acknowledged upload ends per the invariant (tests/integration kills once after the last
acknowledgement with the real labeler; these kill mid-upload, mid-labeling, mid-indexing and
again during recovery, with the fast labeler and slowed ports to keep work in flight)."""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import httpx
import pytest

from autotagger.config import Settings
from autotagger.local.stores import LocalStores

from .fast_labeler import small_png
from .invariant import Ledger, assert_invariant, outbox_pending, stream_pending
from .server_support import Server

pytestmark = [pytest.mark.integration]

UPLOADS = 30
BAD = {7, 19, 28}  # not images: these end as dead letters


def _bodies() -> dict[str, bytes]:
    return {f"crash/{i:02d}.png": (b"no image %d" % i if i in BAD else small_png(100 + i)) for i in range(UPLOADS)}


def _upload_all(url: str, bodies: dict[str, bytes], ledger: Ledger, stop: threading.Event) -> None:
    """Four clients at once; an upload counts only once answered 200."""
    def put(item):
        key, body = item
        if stop.is_set():
            return
        ledger.attempted(key, body)
        try:
            response = httpx.put(f"{url}/v1/image-vaults/{quote(key, safe='')}", content=body,
                                 headers={"Content-Type": "application/octet-stream"}, timeout=10)
        except httpx.TransportError:
            stop.set()  # the server is gone
            return
        if response.status_code == 200:
            ledger.uploaded(key, body)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(put, bodies.items()))


def _settled(server: Server) -> bool:
    summary = httpx.get(f"{server.url}/v1/summary", timeout=10).json()
    return (outbox_pending(server.data_dir) == 0 and summary["executions"]["RUNNING"] == 0
            and summary["stream_records_pending"] == 0)


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {timeout} s")
        time.sleep(0.05)


@pytest.mark.parametrize("acks_before_kill, faults, kill_during_recovery, seed", [
    pytest.param(2, ["labeler.slow=300ms"], False, 1, id="right-after-the-first-acks"),
    pytest.param(UPLOADS // 2, ["labeler.slow=200ms"], False, 2, id="mid-upload-mid-labeling"),
    pytest.param(UPLOADS, ["labeler.slow=200ms"], False, 3, id="after-the-last-ack-mid-labeling"),
    pytest.param(UPLOADS, ["index.slow=400ms"], False, 4, id="mid-indexing"),
    pytest.param(10, ["labeler.slow=200ms"], True, 5, id="mid-upload-then-again-during-recovery"),
])
def test_GIVEN_uploads_in_flight_WHEN_the_server_is_killed_and_restarted_THEN_every_acknowledged_upload_ends_per_the_invariant(
        tmp_path, acks_before_kill, faults, kill_during_recovery, seed):
    rng = random.Random(seed)
    data_dir, ledger, stop = tmp_path / "data", Ledger(), threading.Event()
    fault_args = [arg for spec in faults for arg in ("--fault", spec)]
    server = Server(data_dir, tmp_path / "first.log", args=fault_args).start()
    uploader = threading.Thread(target=_upload_all, args=(server.url, _bodies(), ledger, stop))
    uploader.start()
    try:
        _wait(lambda: len(ledger.acks) >= acks_before_kill or not uploader.is_alive(), 60, "acknowledgements")
        time.sleep(rng.uniform(0, 0.03))  # a random moment after that point
    finally:
        server.kill()
        stop.set()
        uploader.join(30)
    left_by_kill = outbox_pending(data_dir) + stream_pending(data_dir)
    assert left_by_kill > 0, "the kill came after all work was done: it tested nothing"
    if kill_during_recovery:
        recovering = Server(data_dir, tmp_path / "second.log", args=fault_args).start()
        time.sleep(rng.uniform(0.02, 0.1))
        recovering.kill()

    restarted = Server(data_dir, tmp_path / "last.log").start()
    try:
        _wait(lambda: _settled(restarted), 120, "the restarted server did not settle")
    finally:
        restarted.stop()
    stores = LocalStores(Settings(data_dir=data_dir))
    try:
        report = assert_invariant(stores, ledger)
    finally:
        stores.close()
    print(f"kill after {acks_before_kill} ack(s) {faults}: {len(ledger.acks)} acknowledged, {left_by_kill} "
          f"execution(s)/record(s) interrupted; {report.summary()}")
    assert len(report.indexed) + len(report.dead_lettered) >= len(ledger.acks)
    assert "Traceback" not in restarted.log(), restarted.log()[-4000:]
