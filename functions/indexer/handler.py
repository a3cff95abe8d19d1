"""Indexer Lambda: Kinesis batch of stream records -> image index (OpenSearch on AWS).

`handler` is `autotagger.stream_indexer.make_handler` bound to the index the environment names,
built once per process (on the first invocation). The local runtime builds its own handler with
the same factory around the index of its data directory.
"""

from __future__ import annotations

from autotagger import index
from autotagger.ports import ImageIndex
from autotagger.stream_indexer import display_threshold, make_handler


def index_from_environment() -> ImageIndex:
    """The environment's index (autotagger.index.index_from_environment) with this function's display threshold."""
    return index.index_from_environment(threshold=display_threshold())


handler = make_handler(index_from_environment)
