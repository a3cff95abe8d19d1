"""`ports.RecordStream` in memory: a Kinesis stream of one shard that keeps what was put."""

from __future__ import annotations


class FakeRecordStream:
    def __init__(self):
        self.records: list[tuple[bytes, str]] = []  # (data, partition key), in put order
        self.closed = False

    def put_record(self, data: bytes, partition_key: str) -> dict[str, str]:
        self.records.append((bytes(data), partition_key))
        return {"SequenceNumber": str(len(self.records)), "ShardId": "shardId-000000000000"}

    def close(self) -> None:
        self.closed = True
