"""The indexer: Kinesis batches of stream records -> `ImageIndex` writes -> partial batch responses.

`batch` holds the logic (decode, one bulk `apply`, classify each record); `handler` wraps it in the
Lambda handler with Powertools. `make_handler(index_factory)` builds a handler bound to one index:
the Lambda entry point (`functions/indexer/handler.py`) builds one from its environment, the local
runtime builds its own around the index of its data directory. Not to be confused with
`autotagger.index`, the `ImageIndex` adapters the handler writes to.
"""

from __future__ import annotations

from autotagger.stream_indexer.batch import BatchOutcome, decode_record, respond, write_batch
from autotagger.stream_indexer.handler import display_threshold, handle, make_handler

__all__ = ["BatchOutcome", "decode_record", "display_threshold", "handle", "make_handler", "respond",
           "write_batch"]
