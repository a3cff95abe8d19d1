"""The read API's ports on AWS (boto3): executions from Step Functions, dead letters from the SQS
dead-letter queues, image URLs presigned on S3. `service_from_environment()` wires them, with the
OpenSearch index, for the API Lambda (`functions/api/handler.py`).

Environment of the Lambda:

| variable | meaning |
|---|---|
| `STATE_MACHINE_ARN` | the tagging state machine (list, describe, start executions of it) |
| `IMAGE_BUCKET` | the image bucket (presigned GET and PUT) |
| `WORKFLOW_DLQ_URL`, `RULE_DLQ_URL`, `INDEXER_DLQ_URL` | the dead-letter queues (each optional) |
| `OPENSEARCH_ENDPOINT`, `INDEX_NAME`, `AWS_REGION` | the index, as for the indexer (`autotagger.index`) |
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from autotagger.errors import InvalidCursor
from autotagger.local.stores import execution_detail, execution_summary
from autotagger.ports import DeadLetter
from autotagger.reprocess import execution_name

if TYPE_CHECKING:
    from autotagger.api.service import ReadApi

# ListExecutions answers at most 1000 per call (API reference, ListExecutions maxResults); one
# fixed page size keeps a cursor's position inside its page meaningful from call to call.
LIST_PAGE_SIZE = 100
# ListExecutions carries neither the input nor the error and cause: filtering by object key, and
# the error and cause of a failed execution (which the local runtime lists too), need one
# DescribeExecution each. At most this many per request; then the page ends early with a cursor.
DESCRIBE_BUDGET = 100
_ENDED_BADLY = ("FAILED", "TIMED_OUT", "ABORTED")
# Step Functions execution names: 1-80 characters, none of whitespace, brackets, wildcards,
# "#%\^|~`$&,;:/ or control characters (API reference, StartExecution `name`).
_BAD_NAME = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")
# How long a redrive holds the messages it received (a claim): a Lambda dying mid-redrive leaves
# them hidden at most this long. The API Lambda's timeout is well below it.
REDRIVE_VISIBILITY_TIMEOUT_S = 300
# Long polling (WaitTimeSeconds >= 1) asks every SQS server, so a small queue is not missed the
# way short polling's sampled subset can miss it (SQS Developer Guide, "Amazon SQS short and long
# polling"); 1 s is what an empty queue costs a request.
RECEIVE_WAIT_S = 1


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _error_code(error: Exception) -> str | None:
    response = getattr(error, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


# -- executions: Step Functions --------------------------------------------------------------------

def _object_key(execution_input: Any) -> str | None:
    """The object key of the S3 event an execution ran on (its input, JSON text)."""
    try:
        key = json.loads(execution_input)["detail"]["object"]["key"]
    except (TypeError, ValueError, KeyError):
        return None
    return key if isinstance(key, str) else None


class StepFunctionsExecutions:
    """`ports.ExecutionLookup` over one state machine.

    The cursor is the ListExecutions `nextToken` of the page to read plus how much of that page
    was already answered, and the filters it was issued for (a cursor used with other filters is
    refused rather than silently walking another list)."""

    def __init__(self, sfn: Any, state_machine_arn: str, *, page_size: int = LIST_PAGE_SIZE,
                 describe_budget: int = DESCRIBE_BUDGET):
        parts = state_machine_arn.split(":")
        if len(parts) != 7 or parts[0] != "arn" or parts[2] != "states" or parts[5] != "stateMachine":
            raise ValueError(f"not a state machine ARN: {state_machine_arn!r}")
        self.sfn = sfn
        self.state_machine_arn = state_machine_arn
        self._execution_prefix = ":".join(parts[:5] + ["execution", parts[6]]) + ":"
        self.page_size = page_size
        self.describe_budget = describe_budget

    def execution_arn(self, name: str) -> str | None:
        """The ARN of this state machine's execution `name`; None for a name Step Functions cannot have."""
        if not 1 <= len(name) <= 80 or _BAD_NAME.search(name):
            return None
        return self._execution_prefix + name

    # cursors ----------------------------------------------------------------------------------

    @staticmethod
    def _cursor(token: str | None, skip: int, filters: list[Any]) -> str:
        text = json.dumps({"t": token, "s": skip, "f": filters}, separators=(",", ":"))
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @staticmethod
    def _position(cursor: str, filters: list[Any]) -> tuple[str | None, int]:
        try:
            data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            token, skip = data["t"], data["s"]
            valid = (data["f"] == filters and (token is None or isinstance(token, str))
                     and isinstance(skip, int) and skip >= 0)
        except (ValueError, TypeError, KeyError, binascii.Error):
            valid = False
        if not valid:
            raise InvalidCursor("the cursor is not one this API issued for these filters")
        return token, skip

    # the port ---------------------------------------------------------------------------------

    def list(self, status: str | None = None, key: str | None = None, limit: int = 50,
             cursor: str | None = None) -> dict[str, Any]:
        filters = [status, key]
        token, skip = self._position(cursor, filters) if cursor else (None, 0)
        found: list[dict[str, Any]] = []
        described = 0
        while True:
            page = self._page(token, status)
            executions = page["executions"]
            for position in range(skip, len(executions)):
                item = executions[position]
                if key is not None or item.get("status") in _ENDED_BADLY:
                    if described == self.describe_budget:
                        return {"executions": found, "next_cursor": self._cursor(token, position, filters)}
                    described += 1
                    details = self.sfn.describe_execution(executionArn=item["executionArn"])
                    if key is not None and _object_key(details.get("input")) != key:
                        continue
                    item = {**item, "error": details.get("error"), "cause": details.get("cause")}
                found.append(execution_summary(item))
                if len(found) == limit:
                    if position + 1 < len(executions):
                        return {"executions": found, "next_cursor": self._cursor(token, position + 1, filters)}
                    following = page.get("nextToken")
                    return {"executions": found,
                            "next_cursor": self._cursor(following, 0, filters) if following else None}
            token, skip = page.get("nextToken"), 0
            if not token:
                return {"executions": found, "next_cursor": None}

    def _page(self, token: str | None, status: str | None) -> dict[str, Any]:
        request: dict[str, Any] = {"stateMachineArn": self.state_machine_arn, "maxResults": self.page_size}
        if status:
            request["statusFilter"] = status
        if token:
            request["nextToken"] = token
        try:
            return self.sfn.list_executions(**request)
        except self.sfn.exceptions.InvalidToken:
            raise InvalidCursor("the cursor has expired or is not one this API issued") from None

    def describe(self, name: str) -> dict[str, Any] | None:
        arn = self.execution_arn(name)
        if arn is None:
            return None
        try:
            execution = self.sfn.describe_execution(executionArn=arn)
        except (self.sfn.exceptions.ExecutionDoesNotExist, self.sfn.exceptions.InvalidArn):
            return None
        history: list[dict[str, Any]] = []
        for page in self.sfn.get_paginator("get_execution_history").paginate(executionArn=arn,
                                                                               includeExecutionData=True):
            history += page["events"]
        return execution_detail({**execution, "history": history})

    def start(self, name: str, event: dict[str, Any]) -> bool:
        """StartExecution under `name`; False when Step Functions refuses the name as used before
        (ExecutionAlreadyExists). The same name and input while that execution still runs is
        answered with the running execution: True, and still nothing new runs."""
        try:
            self.sfn.start_execution(stateMachineArn=self.state_machine_arn, name=name, input=json.dumps(event))
        except self.sfn.exceptions.ExecutionAlreadyExists:
            return False
        return True


# -- dead letters: SQS ----------------------------------------------------------------------------

def workflow_event(body: Any) -> dict[str, Any] | None:
    """The workflow's own dead letter: `{"event": <original input>, "error", "cause", ...}`."""
    event = body.get("event") if isinstance(body, dict) else None
    return event if isinstance(event, dict) else None


def rule_event(body: Any) -> dict[str, Any] | None:
    """The EventBridge rule's dead letter: the event it could not deliver, as the message body."""
    return body if isinstance(body, dict) and isinstance(body.get("detail"), dict) else None


def redrive_name(message_id: str) -> str:
    """The execution a dead letter is redriven as: the same name the CLI's `reprocess --aws
    --redrive` gives it, so the message runs once whichever of them redrives it."""
    return execution_name("redrive", "dlq", message_id)


class SqsDeadLetterQueue:
    """`ports.DeadLetterQueue` over one SQS queue. SQS has no read without receive: listing
    receives with a visibility timeout and makes the messages visible again when done; a redrive
    receives (a claim), starts the execution, and only then deletes the message."""

    def __init__(self, sqs: Any, name: str, queue_url: str, *, executions: StepFunctionsExecutions | None = None,
                 event_of: Callable[[Any], dict[str, Any] | None] | None = None,
                 receive_wait_s: int = RECEIVE_WAIT_S, clock: Callable[[], float] = time.time):
        self.sqs = sqs
        self.name = name
        self.queue_url = queue_url
        self._executions = executions
        self._event_of = event_of if executions is not None else None
        self._wait = receive_wait_s
        self._clock = clock

    def _receive(self, visibility_timeout_s: int) -> list[dict[str, Any]]:
        return self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=self._wait,
            VisibilityTimeout=visibility_timeout_s, MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"]).get("Messages", [])

    def _walk(self, visibility_timeout_s: int, enough: Callable[[], bool]):
        """Every message once (received messages stay hidden, so each receive brings new ones)."""
        seen: set[str] = set()
        while not enough():
            batch = [m for m in self._receive(visibility_timeout_s) if m["MessageId"] not in seen]
            if not batch:
                return
            for message in batch:
                seen.add(message["MessageId"])
                yield message

    def _release(self, messages: list[dict[str, Any]]) -> None:
        """Visible again at once (VisibilityTimeout 0), for the next reader or redrive."""
        for start in range(0, len(messages), 10):
            chunk = messages[start:start + 10]
            self.sqs.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for i, m in enumerate(chunk)])

    def _letter(self, message: dict[str, Any]) -> DeadLetter:
        attributes = message.get("Attributes", {})
        sent_ms = int(attributes.get("SentTimestamp", "0"))
        extra = {name: value["StringValue"] for name, value in message.get("MessageAttributes", {}).items()
                 if "StringValue" in value}
        extra["ApproximateReceiveCount"] = attributes.get("ApproximateReceiveCount", "0")
        return DeadLetter(message_id=message["MessageId"], body=message["Body"],
                          sent_at=_iso(datetime.fromtimestamp(sent_ms / 1000, UTC)),
                          queue=self.name, attributes=extra)

    def redrive(self, message_ids: list[str] | None = None) -> dict[str, list[str]]:
        wanted = None if message_ids is None else set(message_ids)
        # "Everything" is what was there when the redrive began: a re-run that fails again sends a
        # new dead letter to this queue, which must wait for the next redrive, not loop this one.
        began_ms = int(self._clock() * 1000)
        redriven: list[str] = []
        kept: list[str] = []
        held: list[dict[str, Any]] = []  # received but not deleted: released at the end

        def done() -> bool:
            return wanted is not None and len(redriven) + len(kept) == len(wanted)

        try:
            for message in self._walk(REDRIVE_VISIBILITY_TIMEOUT_S, done):
                message_id = message["MessageId"]
                sent_ms = int(message.get("Attributes", {}).get("SentTimestamp", "0"))
                unasked = message_id not in wanted if wanted is not None else sent_ms > began_ms
                if unasked:
                    held.append(message)
                    continue
                event = self._event(message)
                if event is None or self._executions is None:
                    kept.append(message_id)
                    held.append(message)
                    continue
                try:
                    self._executions.start(redrive_name(message_id), event)
                except Exception:
                    held.append(message)
                    raise
                # Started (now or by an earlier redrive that died before this delete): only now is
                # the message no longer the one trace of the failed work.
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
                redriven.append(message_id)
        finally:
            self._release(held)
        return {"redriven": redriven, "not_redrivable": kept}

    def list(self, limit: int = 100, visibility_timeout_s: int = 30) -> list[DeadLetter]:
        received: list[dict[str, Any]] = []  # filled as the walk goes: it stops at `limit`, and all are released
        try:
            for message in self._walk(visibility_timeout_s, lambda: len(received) >= limit):
                received.append(message)
        finally:
            self._release(received)
        letters = [self._letter(m) for m in received[:limit]]
        return sorted(letters, key=lambda letter: letter.sent_at)

    def _event(self, message: dict[str, Any]) -> dict[str, Any] | None:
        if self._event_of is None:
            return None
        try:
            body = json.loads(message["Body"])
        except ValueError:
            return None
        return self._event_of(body)


# -- image URLs: presigned S3 -----------------------------------------------------------------------

def s3_client(region: str | None = None) -> Any:
    """An S3 client whose presigned URLs are SigV4: only SigV4 query authentication signs the
    Content-Type and Content-Length headers of a PUT (X-Amz-SignedHeaders), which is what binds an
    upload URL to the declared type and size."""
    import boto3
    from botocore.config import Config

    return boto3.client("s3", region_name=region,
                        config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}))


class S3ImageUrls:
    """`ports.ImageUrls` on S3.

    Uploads are presigned PUTs with Content-Type and Content-Length among the signed headers
    (X-Amz-SignedHeaders): S3 recomputes the signature from the headers the request carries, so
    another type or another body length fails with 403 SignatureDoesNotMatch
    (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html). A presigned
    POST could allow a size range with a policy's `content-length-range` condition
    (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html), but the
    upload is then a multipart form instead of the bytes themselves, and the API promises exactly
    the declared size; a PUT also keeps one upload shape for the local runtime and for
    `PUT /v1/{bucket}/{object}`. The chosen PUT binds type and size exactly; a URL is for one object.
    """

    def __init__(self, s3: Any, bucket: str, *, clock: Callable[[], float] = time.time):
        self.s3 = s3
        self.bucket = bucket
        self._clock = clock

    def download_url(self, bucket: str, key: str, expires_in_s: int) -> str:
        return self.s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key},
                                              ExpiresIn=expires_in_s)

    def upload(self, key: str, content_type: str, size: int, expires_in_s: int) -> dict[str, Any]:
        expires_at = datetime.fromtimestamp(self._clock() + expires_in_s, UTC).replace(microsecond=0)
        url = self.s3.generate_presigned_url(
            "put_object", Params={"Bucket": self.bucket, "Key": key, "ContentType": content_type,
                                  "ContentLength": size},
            ExpiresIn=expires_in_s)
        return {"url": url, "method": "PUT",
                "headers": {"Content-Type": content_type, "Content-Length": str(size)},
                "expires_at": _iso(expires_at), "key": key}


# -- wiring for the Lambda ------------------------------------------------------------------------

# The environment the API Lambda is given (CDK's `cdk/constructs/read_api.py` sets exactly these).
STATE_MACHINE_ARN_ENV = "STATE_MACHINE_ARN"
IMAGE_BUCKET_ENV = "IMAGE_BUCKET"
DEAD_LETTER_QUEUE_URL_ENVS = {"workflow": "WORKFLOW_DLQ_URL", "rule": "RULE_DLQ_URL", "indexer": "INDEXER_DLQ_URL"}

def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"the API Lambda needs the environment variable {name}")
    return value


def service_from_environment() -> ReadApi:
    """The `ReadApi` over this deployment's services (see the module docs for the environment)."""
    import boto3

    from autotagger.api.service import ReadApi
    from autotagger.index import index_from_environment

    region = os.environ.get("AWS_REGION") or None
    sfn = boto3.client("stepfunctions", region_name=region)
    sqs = boto3.client("sqs", region_name=region)
    executions = StepFunctionsExecutions(sfn, _required(STATE_MACHINE_ARN_ENV))
    events_of = {"workflow": workflow_event, "rule": rule_event, "indexer": None}
    queues = [SqsDeadLetterQueue(sqs, name, os.environ[variable], executions=executions, event_of=events_of[name])
              for name, variable in DEAD_LETTER_QUEUE_URL_ENVS.items() if os.environ.get(variable)]
    return ReadApi(index_from_environment(), executions, queues,
                   S3ImageUrls(s3_client(region), _required(IMAGE_BUCKET_ENV)))


_lock = threading.Lock()
_service: ReadApi | None = None


def current_service() -> ReadApi:
    """One service per Lambda process, built on first use (clients and connections are reused)."""
    global _service
    with _lock:
        if _service is None:
            _service = service_from_environment()
        return _service


def reset_service() -> None:
    """Forgets the service (the next call reads the environment again), e.g. between tests."""
    global _service
    with _lock:
        _service = None
