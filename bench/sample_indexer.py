"""The original sample's way of indexing (aws-samples/aws-realtime-image-analysis,
src/main/python/ImageAutoTagger/image_auto_tagger.py), as the baseline of the indexing benchmark.

Per Kinesis batch the sample built one bulk body of `index` actions, the document id being the
first 8 hex digits of the MD5 of the file's base name, and sent it with `refresh=True`: every batch
waits for a refresh, and two files with the same name in different folders overwrite each other.
There is no ordering guard (an older event can overwrite a newer one). Re-expressed here with
opensearch-py (the sample used elasticsearch-py's `bulk` the same way); no code is copied.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from typing import Any


def sample_document_id(key: str) -> str:
    return hashlib.md5(posixpath.basename(key).encode("utf-8")).hexdigest()[:8]


def bulk_body(documents: list[dict[str, Any]], index_name: str) -> str:
    lines = []
    for document in documents:
        lines.append(json.dumps({"index": {"_index": index_name, "_id": sample_document_id(document["key"])}}))
        lines.append(json.dumps(document))
    return "\n".join(lines) + "\n"


def index_batch(client: Any, documents: list[dict[str, Any]], index_name: str) -> dict[str, Any]:
    """One batch the sample's way: a single bulk request with refresh=true."""
    return client.bulk(body=bulk_body(documents, index_name), index=index_name, refresh=True)


def create_index(client: Any, index_name: str, template: dict[str, Any] | None = None) -> None:
    """The index the sample wrote to; given the project's template, the same settings and mapping
    (so the comparison is about the write path, not the mapping)."""
    body = {}
    if template is not None:
        body = {"settings": template["template"].get("settings", {}), "mappings": template["template"]["mappings"]}
    client.indices.create(index=index_name, body=body)
