"""Read API Lambda: the `/v1` read routes of `autotagger/api/openapi.json` on API Gateway (REST, proxy
integration). Routing only: every route hands the query string or body to `ReadApi`
(`autotagger.api.service`), which validates, answers and maps errors exactly as the local server
does; the service's ports are wired from the environment by `autotagger.api.aws`.
"""

from __future__ import annotations

import json
import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths

from autotagger.api.aws import current_service
from autotagger.api.service import error_response

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "api")

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "autotagger"), service=SERVICE)
API_BASE = "/v1"
# The `/v1` of the document's paths is the API Gateway stage, and for the execute-api URL the
# proxy event's `path` leaves the stage out (`/images`; `requestContext.path` is `/v1/images`), while
# behind a custom domain or in tests it may carry it: routes are declared without it and a leading
# `/v1` is stripped (API Gateway Developer Guide, "Input format of a Lambda function for proxy
# integration"; Powertools `strip_prefixes`).
app = APIGatewayRestResolver(enable_validation=True, strip_prefixes=[API_BASE])


def _query() -> dict[str, list[str]]:
    return app.current_event.multi_value_query_string_parameters or {}


def _body() -> str | None:
    return app.current_event.decoded_body


@app.get("/images")
def search_images() -> dict[str, Any]:
    return current_service().search_images(_query())


@app.get("/images/<image_id>")
def get_image(image_id: str) -> dict[str, Any]:
    return current_service().get_image(image_id)


@app.get("/stats/tags")
def tag_stats() -> list[dict[str, Any]]:
    return current_service().tag_stats(_query())


@app.get("/stats/images")
def image_stats() -> list[dict[str, Any]]:
    return current_service().image_stats(_query())


@app.get("/executions")
def list_executions() -> dict[str, Any]:
    return current_service().list_executions(_query())


@app.get("/executions/<name>")
def get_execution(name: str) -> dict[str, Any]:
    return current_service().get_execution(name)


@app.get("/dead-letters")
def list_dead_letters() -> dict[str, Any]:
    return current_service().list_dead_letters(_query())


@app.post("/dead-letters/redrive")
def redrive() -> dict[str, Any]:
    return current_service().redrive(_body())


@app.post("/uploads")
def create_upload() -> dict[str, Any]:
    return current_service().create_upload(_body())


def _error(status: int, body: dict[str, str]) -> Response[str]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))


@app.not_found
def no_route(_: NotFoundError) -> Response[str]:
    return _error(404, {"error": "not_found", "message": f"no route {app.current_event.http_method} "
                                                         f"{app.current_event.path}"})


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]  # Powertools leaves it untyped
def failed(exc: Exception) -> Response[str]:
    status, body = error_response(exc)
    if status >= 500:
        logger.exception("request failed")
    return _error(status, body)


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
