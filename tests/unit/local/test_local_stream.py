"""The durable stream: Kinesis' shard mapping, limits and sequence numbers, checkpoints."""

from __future__ import annotations

import hashlib

import pytest

from autotagger.local.stream import InvalidRecord, LocalStream
from autotagger.ports import RecordStream


def test_given_a_local_stream_then_it_implements_the_record_stream_port(stream):
    assert isinstance(stream, RecordStream)


def test_given_a_record_when_put_then_it_answers_like_kinesis_put_record(stream):
    result = stream.put_record(b"{}", "abc")

    assert set(result) == {"SequenceNumber", "ShardId"}
    assert result["SequenceNumber"].isdigit() and len(result["SequenceNumber"]) == 56
    assert result["ShardId"] in {"shardId-000000000000", "shardId-000000000001", "shardId-000000000002",
                                 "shardId-000000000003"}


@pytest.mark.parametrize("key", ["a", "image-vaults/raw-image/dog.jpg", "🐶", "x" * 256])
def test_given_a_partition_key_then_its_shard_is_md5_over_the_hash_key_range(stream, key):
    hash_key = int(hashlib.md5(key.encode()).hexdigest(), 16)
    expected_index = hash_key * 4 >> 128

    assert stream.put_record(b"x", key)["ShardId"] == f"shardId-{expected_index:012d}"


def test_given_many_partition_keys_then_records_spread_over_every_shard(stream):
    shards = {stream.put_record(b"x", f"key-{i}")["ShardId"] for i in range(200)}

    assert len(shards) == 4


def test_given_puts_on_one_shard_then_sequence_numbers_strictly_increase(stream):
    numbers = [int(r["SequenceNumber"]) for r in (stream.put_record(f"r{i}".encode(), "pk-1") for i in range(10))]

    assert numbers == sorted(numbers) and len(set(numbers)) == 10


@pytest.mark.parametrize("data, key", [(b"x" * (1024 * 1024 + 1), "k"), (b"x", ""), (b"x", "k" * 257), ("text", "k")])
def test_given_a_record_kinesis_would_refuse_when_put_then_invalid_record(stream, data, key):
    with pytest.raises(InvalidRecord):
        stream.put_record(data, key)


def test_given_a_stream_when_reopened_with_another_shard_count_then_refused(tmp_path):
    LocalStream(tmp_path / "s.sqlite3", shard_count=4).close()

    with pytest.raises(ValueError, match="4 shards"):
        LocalStream(tmp_path / "s.sqlite3", shard_count=2)


def test_given_a_checkpoint_when_committed_then_only_its_own_commit_is_relaxed_and_it_survives_a_reopen(tmp_path):
    from autotagger.local.sqlite_util import Database

    db = Database(tmp_path / "t.db")
    full, normal = 2, 1  # PRAGMA synchronous answers
    with db.transaction(synchronous="NORMAL") as conn:
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == normal
    assert db.query_one("PRAGMA synchronous")[0] == full
    with pytest.raises(RuntimeError), db.transaction(synchronous="NORMAL"):
        raise RuntimeError("rolled back")
    assert db.query_one("PRAGMA synchronous")[0] == full
    db.close()

    stream = LocalStream(tmp_path / "stream.db", "s")
    seq = int(stream.put_record(b"x", "k")["SequenceNumber"])
    shard = stream.shard_for("k")
    stream.set_checkpoint("c", shard, seq)
    assert stream._db.query_one("PRAGMA synchronous")[0] == full  # records stay fully durable
    stream.close()
    reopened = LocalStream(tmp_path / "stream.db", "s")
    assert reopened.checkpoint("c", shard) == seq
    reopened.close()
