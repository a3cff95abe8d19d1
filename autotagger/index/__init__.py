"""ImageIndex adapters: SQLite (embedded default) and OpenSearch (AWS, or any OpenSearch URL)."""

from __future__ import annotations

import os
from typing import Any

from autotagger.contracts import INDEX_NAME_ENV, OPENSEARCH_ENDPOINT_ENV
from autotagger.ports import ImageIndex

__all__ = ["index_from_environment", "open_index"]


def open_index(target: str | os.PathLike[str], *, index_name: str | None = None, region: str | None = None,
               **options: Any) -> ImageIndex:
    """An http(s) URL opens OpenSearch (SigV4-signed for *.amazonaws.com hosts); anything else is a
    SQLite file path. Adapters are imported lazily so SQLite users never load opensearch-py."""
    text = os.fspath(target)
    if text.startswith(("http://", "https://")):
        from autotagger.index.opensearch import OpenSearchIndex

        return OpenSearchIndex.from_url(text, index_name=index_name, region=region, **options)
    from autotagger.index.sqlite import SQLiteIndex

    return SQLiteIndex(text, **options)


def index_from_environment(**options: Any) -> ImageIndex:
    """The index a Lambda function (indexer or read API) is pointed at: OPENSEARCH_ENDPOINT (https URL
    or the bare domain endpoint CDK exports; SigV4 in AWS_REGION), else AUTOTAGGER_INDEX (a SQLite path
    or an OpenSearch URL), so a handler in another process can be pointed at an index. `options` go to
    the OpenSearch adapter (e.g. the display threshold)."""
    index_name = os.environ.get(INDEX_NAME_ENV) or None
    endpoint = os.environ.get(OPENSEARCH_ENDPOINT_ENV)
    if endpoint:
        if "://" not in endpoint:
            endpoint = f"https://{endpoint}"
        return open_index(endpoint, index_name=index_name, region=os.environ.get("AWS_REGION") or None, **options)
    target = os.environ.get("AUTOTAGGER_INDEX")
    if target:
        return open_index(target, index_name=index_name)
    raise RuntimeError(f"no index configured: set {OPENSEARCH_ENDPOINT_ENV} (or AUTOTAGGER_INDEX), "
                       "or build a handler with autotagger.stream_indexer.make_handler(index_factory)")
