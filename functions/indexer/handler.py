"""Indexer Lambda: Kinesis batch of stream records -> image index (OpenSearch on AWS).

The local stream invokes this same `handler` with Kinesis-shaped events after calling
`autotagger.indexing.configure(index)`; on Lambda the OpenSearch index comes from the environment.
Tracing switches itself off outside Lambda (or with POWERTOOLS_TRACE_DISABLED); metrics go out as
EMF in the POWERTOOLS_METRICS_NAMESPACE namespace (default "autotagger", silence them locally with
POWERTOOLS_METRICS_DISABLED=true).
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

from autotagger import indexing

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "indexer")

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "autotagger"), service=SERVICE)


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return indexing.handle(event, context, metrics=metrics)
