"""The JSON shapes of the API, declared so /openapi.json describes every answer exactly.

Documents and executions come from adapters that may add fields (OpenSearch keeps whatever the
indexer wrote), so those models allow extra fields instead of silently dropping them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class BoundingBox(_Open):
    width: float
    height: float
    left: float
    top: float


class LabelInstance(_Open):
    confidence: float
    bounding_box: BoundingBox | None = None


class Label(_Open):
    name: str
    confidence: float
    parents: list[str] = []
    categories: list[str] = []
    aliases: list[str] = []
    instances: list[LabelInstance] = []


class ImageDocument(_Open):
    id: str
    bucket: str
    key: str
    labels: list[Label] = []
    tags: list[str] = []
    label_model_version: str | None = None
    size: int | None = None
    etag: str | None = None
    sequencer: str | None = None
    event_time: str | None = None
    indexed_at: str | None = None


class ImageSearchResult(BaseModel):
    total: int
    images: list[ImageDocument]


class TagCount(BaseModel):
    tag: str
    count: int


class TimeCount(BaseModel):
    time: str
    count: int


class HistoryEvent(_Open):
    id: int | None = None
    type: str
    timestamp: str | None = None


class ExecutionSummary(_Open):
    arn: str
    name: str
    status: str
    start_date: str | None = None
    stop_date: str | None = None
    error: str | None = None
    cause: str | None = None


class MapRunItems(BaseModel):
    total: int = 0
    succeeded: int = 0
    failed: int = 0
    running: int = 0
    pending: int = 0
    aborted: int = 0
    timed_out: int = 0


class ExecutionLink(BaseModel):
    arn: str
    name: str


class MapRun(BaseModel):
    """A distributed Map's run (the backfill's): items by status and the child executions that failed."""

    arn: str
    status: str | None = None
    items: MapRunItems
    failed_executions: list[ExecutionLink] = []
    start_date: str | None = None
    stop_date: str | None = None


class ExecutionDetail(ExecutionSummary):
    input: Any = None
    output: Any = None
    failed_state: str | None = Field(None, description="The state whose failure ended the execution, if any.")
    history: list[HistoryEvent] = []
    map_run: MapRun | None = Field(None, description="The Map Run of the execution's distributed Map, if it has one.")
    parent_arn: str | None = Field(None, description="The execution that started this one (a Map Run's or .sync's).")


class DeadLetterReason(BaseModel):
    error: str | None = None
    cause: str | None = None
    execution_id: str | None = None
    failed_at: str | None = None


class DeadLetterMessage(BaseModel):
    message_id: str
    queue: str
    sent_at: str
    reason: DeadLetterReason
    body: Any = Field(description="The message body, parsed as JSON when it is JSON.")


class DeadLetterQueues(BaseModel):
    workflow: list[DeadLetterMessage]
    indexer: list[DeadLetterMessage]


class RedriveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message_ids: list[str] | None = Field(None, description="Messages to redrive; all of both queues when omitted.")


class RedriveResult(BaseModel):
    redriven: list[str]
    not_found: list[str]


class DeadLetterCounts(BaseModel):
    workflow: int
    indexer: int


class Summary(BaseModel):
    images_indexed: int
    executions: dict[str, int]
    stream_records_pending: int
    dead_letters: DeadLetterCounts


class Health(BaseModel):
    status: str


class ErrorBody(BaseModel):
    detail: str
