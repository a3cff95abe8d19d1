"""The indexer Lambda handler, built around one index.

`make_handler(index_factory)` returns the function Lambda (or the local stream consumer) invokes,
wrapped in Powertools' Logger, Tracer and Metrics decorators. The index is whatever the factory
returns, built on the first invocation and kept for the life of the handler, so nothing
process-wide decides where a handler writes: two handlers in one process never share an index.

Tracing switches itself off outside Lambda (or with POWERTOOLS_TRACE_DISABLED); metrics go out as
EMF in the POWERTOOLS_METRICS_NAMESPACE namespace (default "autotagger", silenced with
POWERTOOLS_METRICS_DISABLED=true). Powertools reads those settings when the handler is built.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

from autotagger.domain.documents import DISPLAY_THRESHOLD
from autotagger.ports import ImageIndex
from autotagger.stream_indexer.batch import respond, write_batch

Handler = Callable[[dict[str, Any], Any], PartialItemFailureResponse]

METRIC_NAMES = {"applied": "RecordsIndexed", "stale": "RecordsStale", "error": "RecordsFailed",
                "malformed": "RecordsMalformed"}


def display_threshold() -> float:
    return float(os.environ.get("DISPLAY_THRESHOLD", DISPLAY_THRESHOLD))


def metrics_disabled() -> bool:
    """Powertools keeps metrics it may not print (POWERTOOLS_METRICS_DISABLED) until 100 pile up and
    then prints them anyway, so a long-running local stream must not add them at all."""
    from aws_lambda_powertools.metrics.functions import is_metrics_disabled

    return is_metrics_disabled()


def handle(event: dict[str, Any], context: Any, *, index: ImageIndex, logger: Logger,
           metrics: Metrics | None = None) -> PartialItemFailureResponse:
    """Indexes one Kinesis batch into `index` and returns the partial batch response."""
    outcome = write_batch(event, index, threshold=display_threshold())
    for sequence, failure in outcome.failures.items():
        logger.warning("record not indexed", extra={"sequence_number": sequence,
                                                    "reason": f"{type(failure).__name__}: {failure}"})
    if metrics is not None and not metrics_disabled():
        from aws_lambda_powertools.metrics import MetricUnit

        for status, name in METRIC_NAMES.items():
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=outcome.counts.get(status, 0))
    return respond(event, outcome, context)


def make_handler(index_factory: Callable[[], ImageIndex]) -> Handler:
    """A Lambda handler writing to the index `index_factory()` returns (called once, on the first
    invocation, so building the handler needs no index yet; a factory that raises is asked again
    next time). Powertools' Metrics share one metric set between instances (class attributes), so
    handlers in one process share the metrics buffer, never the index."""
    service = os.environ.get("POWERTOOLS_SERVICE_NAME", "indexer")
    logger = Logger(service=service)
    tracer = Tracer(service=service)
    metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "autotagger"), service=service)
    index = functools.cache(index_factory)

    @metrics.log_metrics
    @tracer.capture_lambda_handler
    @logger.inject_lambda_context
    def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
        return handle(event, context, index=index(), logger=logger, metrics=metrics)

    return handler
