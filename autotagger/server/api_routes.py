"""`/api/*`: search, statistics, executions and dead letters, read by the dashboard and scripts.

Handlers are plain functions: FastAPI runs them in its thread pool, so the SQLite-backed
adapters behind the pipeline never block the event loop that keeps accepting uploads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Body, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError

from autotagger.contracts import ACCEPTED_MEDIA_TYPES
from autotagger.server.models import (
    DeadLetterQueues,
    ErrorBody,
    ExecutionDetail,
    ExecutionSummary,
    Health,
    ImageDocument,
    ImageSearchResult,
    RedriveRequest,
    RedriveResult,
    Summary,
    TagCount,
    TimeCount,
)

router = APIRouter()
_NOT_FOUND = {404: {"model": ErrorBody}}

Since = Annotated[str | None, Query(description="ISO 8601; only images whose event time is at or after this",
                                    json_schema_extra={"format": "date-time"})]
Until = Annotated[str | None, Query(description="ISO 8601; only images whose event time is before this",
                                    json_schema_extra={"format": "date-time"})]
MinConfidence = Annotated[float, Query(ge=0, le=100)]


def _time(value: str | None, name: str) -> str | None:
    if value in (None, ""):
        return None
    try:
        datetime.fromisoformat(value)
    except ValueError:
        # The same 422 shape FastAPI gives every other invalid parameter.
        raise RequestValidationError([{"type": "datetime_from_date_parsing", "loc": ("query", name),
                                       "msg": f"{name} must be an ISO 8601 date or time", "input": value}]) from None
    return value


def _pipeline(request: Request):
    return request.app.state.pipeline


@router.get("/healthz", response_model=Health, tags=["meta"])
def healthz() -> Health:
    return Health(status="ok")


@router.get("/api/images", response_model=ImageSearchResult, tags=["images"])
def search_images(
    request: Request,
    tag: Annotated[list[str] | None, Query(description="Every tag must match")] = None,
    min_confidence: MinConfidence = 0.0,
    limit: Annotated[int, Query(ge=0, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    since: Since = None,
    until: Until = None,
):
    return _pipeline(request).index.search(
        tags=tag or None, min_confidence=min_confidence, limit=limit, offset=offset,
        since=_time(since, "since"), until=_time(until, "until"),
    )


@router.get("/api/images/{image_id}", response_model=ImageDocument, responses=_NOT_FOUND, tags=["images"])
def get_image(image_id: str, request: Request):
    document = _pipeline(request).index.get(image_id)
    if document is None:
        raise HTTPException(404, f"no image {image_id!r} in the index")
    return document


@router.get(
    "/api/images/{image_id}/content",
    response_class=Response,
    responses={200: {"content": {media_type: {} for media_type in ACCEPTED_MEDIA_TYPES}}, **_NOT_FOUND},
    tags=["images"],
)
def get_image_content(image_id: str, request: Request) -> Response:
    pipeline = _pipeline(request)
    document = pipeline.index.get(image_id)
    found = None
    if document:
        # The object that was analysed (a normalised derivative: upright, a JPEG every browser shows),
        # so the labels' boxes line up with what is drawn; the original if there is none.
        found = pipeline.read_object(document.get("analyzed_key") or document["key"]) or \
            pipeline.read_object(document["key"])
    if found is None:
        raise HTTPException(404, f"no stored image {image_id!r}")
    data, content_type = found
    return Response(data, media_type=content_type, headers={"Cache-Control": "private, max-age=60"})


@router.get("/api/stats/tags", response_model=list[TagCount], tags=["stats"])
def tag_stats(
    request: Request,
    top: Annotated[int, Query(ge=1, le=1000)] = 20,
    min_confidence: MinConfidence = 0.0,
    since: Since = None,
    until: Until = None,
):
    return _pipeline(request).index.tag_counts(
        top=top, min_confidence=min_confidence, since=_time(since, "since"), until=_time(until, "until"))


@router.get("/api/stats/images", response_model=list[TimeCount], tags=["stats"])
def image_stats(
    request: Request,
    interval: Literal["hour", "day", "week", "month"] = "day",
    min_confidence: MinConfidence = 0.0,
    since: Since = None,
    until: Until = None,
):
    return _pipeline(request).index.image_counts(
        interval=interval, since=_time(since, "since"), until=_time(until, "until"), min_confidence=min_confidence)


@router.get("/api/executions", response_model=list[ExecutionSummary], tags=["executions"])
def list_executions(
    request: Request,
    status: Literal["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
):
    return _pipeline(request).list_executions(status=status, limit=limit)


@router.get("/api/executions/{execution_id}", response_model=ExecutionDetail, responses=_NOT_FOUND, tags=["executions"])
def get_execution(execution_id: str, request: Request):
    execution = _pipeline(request).get_execution(execution_id)
    if execution is None:
        raise HTTPException(404, f"no execution {execution_id!r}")
    return execution


@router.get("/api/dlq", response_model=DeadLetterQueues, tags=["dead letters"])
def dead_letters(request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 100):
    return _pipeline(request).dead_letters(limit=limit)


@router.post("/api/dlq/redrive", response_model=RedriveResult, tags=["dead letters"],
             responses={400: {"model": ErrorBody, "description": "The body is not JSON"}})
def redrive(request: Request, body: Annotated[RedriveRequest | None, Body()] = None):
    return _pipeline(request).redrive(body.message_ids if body else None)


@router.get("/api/summary", response_model=Summary, tags=["meta"])
def summary(request: Request):
    return _pipeline(request).summary()
