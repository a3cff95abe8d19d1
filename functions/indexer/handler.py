"""Indexer Lambda: Kinesis batch of stream records -> image index (OpenSearch on AWS).

`handler` is `autotagger.stream_indexer.make_handler` bound to the index the environment names,
built once per process (on the first invocation). The local runtime builds its own handler with
the same factory around the index of its data directory.
"""

from __future__ import annotations

import os

from autotagger.ports import ImageIndex
from autotagger.stream_indexer import display_threshold, make_handler


def index_from_environment() -> ImageIndex:
    """OPENSEARCH_ENDPOINT (https URL or the bare domain endpoint CDK exports), else AUTOTAGGER_INDEX
    (a SQLite path or an OpenSearch URL), so a handler in another process can be pointed at an index."""
    from autotagger.index import open_index

    endpoint = os.environ.get("OPENSEARCH_ENDPOINT")
    if endpoint:
        if "://" not in endpoint:
            endpoint = f"https://{endpoint}"
        return open_index(endpoint, index_name=os.environ.get("INDEX_NAME") or None,
                          region=os.environ.get("AWS_REGION") or None, threshold=display_threshold())
    target = os.environ.get("AUTOTAGGER_INDEX")
    if target:
        return open_index(target, index_name=os.environ.get("INDEX_NAME") or None)
    raise RuntimeError("no index configured: set OPENSEARCH_ENDPOINT (or AUTOTAGGER_INDEX), "
                       "or build a handler with autotagger.stream_indexer.make_handler(index_factory)")


handler = make_handler(index_from_environment)
