"""The object operations the Normalize function needs (`handler.Objects`), on one S3 bucket (boto3)."""

from __future__ import annotations

from typing import Any


class S3Objects:
    def __init__(self, client: Any, bucket: str):
        self._client = client
        self.name = bucket

    def get(self, key: str) -> bytes:
        try:
            response = self._client.get_object(Bucket=self.name, Key=key)
        except self._client.exceptions.NoSuchKey:
            raise KeyError(key) from None
        body: bytes = response["Body"].read()
        return body

    def put(self, key: str, data: bytes, content_type: str) -> Any:
        return self._client.put_object(Bucket=self.name, Key=key, Body=data, ContentType=content_type)
