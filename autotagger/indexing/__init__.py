"""The indexer's batch logic, shared by the Lambda and the local stream.

`functions/indexer/handler.py:handler` is the only entry point; it asks this module for the index.
On Lambda the index is built once per process from the environment (`OPENSEARCH_ENDPOINT`,
`INDEX_NAME`, `AWS_REGION`); the local runtime calls `configure(index)` first to inject its own
adapter (SQLite or an OpenSearch URL), then invokes the very same handler.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from autotagger.domain.documents import DISPLAY_THRESHOLD
from autotagger.indexing.batch import BatchOutcome, decode_record, respond, write_batch
from autotagger.ports import ImageIndex

__all__ = ["configure", "current_index", "handle", "display_threshold", "write_batch", "respond",
           "decode_record", "BatchOutcome"]

_lock = threading.Lock()
_index: ImageIndex | None = None

METRIC_NAMES = {"applied": "RecordsIndexed", "stale": "RecordsStale", "error": "RecordsFailed",
                "malformed": "RecordsMalformed"}


def configure(index: ImageIndex | None) -> None:
    """Injects the index the handler writes to (None forgets it, e.g. between tests)."""
    global _index
    with _lock:
        _index = index


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
    raise RuntimeError("no index: call autotagger.indexing.configure(index) or set OPENSEARCH_ENDPOINT")


def current_index() -> ImageIndex:
    """The configured index, else one built from the environment once per process."""
    global _index
    with _lock:
        if _index is None:
            _index = index_from_environment()
        return _index


def display_threshold() -> float:
    return float(os.environ.get("DISPLAY_THRESHOLD", DISPLAY_THRESHOLD))


def _logger():
    """A child of the handler's Powertools Logger: same service, same structured output."""
    from aws_lambda_powertools import Logger

    return Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "indexer"), child=True)


def metrics_disabled() -> bool:
    """Powertools keeps metrics it may not print (POWERTOOLS_METRICS_DISABLED) until 100 pile up and
    then prints them anyway, so a long-running local stream must not add them at all."""
    from aws_lambda_powertools.metrics.functions import is_metrics_disabled

    return is_metrics_disabled()


def handle(event: dict[str, Any], context: Any = None, metrics: Any = None) -> dict[str, Any]:
    """Indexes one Kinesis batch and returns the partial batch response."""
    outcome = write_batch(event, current_index(), threshold=display_threshold())
    if outcome.failures:
        logger = _logger()
        for sequence, failure in outcome.failures.items():
            logger.warning("record not indexed", extra={"sequence_number": sequence,
                                                        "reason": f"{type(failure).__name__}: {failure}"})
    if metrics is not None and not metrics_disabled():
        from aws_lambda_powertools.metrics import MetricUnit

        for status, name in METRIC_NAMES.items():
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=outcome.counts.get(status, 0))
    return respond(event, outcome, context)
