"""ImageIndex adapters: SQLite (embedded default) and OpenSearch (AWS, or any OpenSearch URL)."""

from __future__ import annotations

import os
from typing import Any

from autotagger.ports import ImageIndex

__all__ = ["open_index"]


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
