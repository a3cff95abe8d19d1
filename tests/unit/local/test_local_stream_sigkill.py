"""A consumer process killed with SIGKILL mid-batch loses nothing: a restart redelivers from the
last checkpoint."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from autotagger.local.dlq import LocalDeadLetterQueue
from autotagger.local.event_source_mapping import StreamConsumer
from autotagger.local.stream import LocalStream

REPO = Path(__file__).resolve().parents[3]

CONSUMER = textwrap.dedent("""
    import base64, os, sys, time
    from autotagger.local.dlq import LocalDeadLetterQueue
    from autotagger.local.event_source_mapping import StreamConsumer
    from autotagger.local.stream import LocalStream

    db, dlq_db, sink, stop_after = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    stream = LocalStream(db, shard_count=2)
    handled = 0

    def handler(event, context):
        global handled
        with open(sink, "a") as f:
            for record in event["Records"]:
                f.write(base64.b64decode(record["kinesis"]["data"]).decode() + "\\n")
                f.flush()
                os.fsync(f.fileno())
                handled += 1
                if handled == stop_after:
                    print("mid-batch", flush=True)
                    time.sleep(600)  # killed here, before the batch returns

    consumer = StreamConsumer(stream, handler, on_failure=LocalDeadLetterQueue(dlq_db, "dlq"), batch_size=5,
                              batching_window_s=0.05, poll_interval_s=0.05)
    consumer.start()
    time.sleep(600)
""")


def test_given_a_consumer_process_sigkilled_mid_batch_when_restarted_then_every_record_is_handled(tmp_path):
    db, dlq_db, sink = tmp_path / "stream.sqlite3", tmp_path / "dlq.sqlite3", tmp_path / "handled.txt"
    producer = LocalStream(db, shard_count=2)
    expected = {f"r{i}" for i in range(40)}
    for i in range(40):
        producer.put_record(f"r{i}".encode(), f"key-{i % 5}")
    producer.close()

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", CONSUMER, str(db), str(dlq_db), str(sink), "12"],
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "mid-batch"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        proc.stdout.close()
    before_kill = sink.read_text().split()

    stream = LocalStream(db, shard_count=2)
    dlq = LocalDeadLetterQueue(dlq_db, "dlq")
    resumed_at = {shard: stream.checkpoint("indexer", shard) for shard in stream.shard_ids}
    after_restart: list[tuple[str, int]] = []

    def handler(event, context):
        for record in event["Records"]:
            shard = record["eventID"].split(":")[0]
            assert int(record["kinesis"]["sequenceNumber"]) > resumed_at[shard]  # nothing before the checkpoint
            after_restart.append((base64.b64decode(record["kinesis"]["data"]).decode(), shard))

    assert StreamConsumer(stream, handler, on_failure=dlq, batch_size=5).drain(10)

    handled_after = [data for data, _ in after_restart]
    assert len(before_kill) >= 12  # the other shard's thread may get further before the kill
    assert set(before_kill) | set(handled_after) == expected  # nothing lost
    assert set(before_kill) & set(handled_after)  # the interrupted batch was delivered again
    assert dlq.count() == 0
    assert all(count == 0 for count in stream.pending("indexer").values())
    for key in range(5):  # each key's records still come in order after the restart
        numbers = [int(d[1:]) for d in handled_after if int(d[1:]) % 5 == key]
        assert numbers == sorted(numbers)
