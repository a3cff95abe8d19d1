"""`autotagger smoke --stack Autotagger`: proves a deployment from a laptop in about two minutes.

Reads the stack's outputs, then through the deployed pieces themselves:
1. uploads images under awkward keys (a space, `+`, `é`, a literal `%2F`) through the upload API
   with its API key, and checks each S3 ETag equals the local MD5 (the body survived API Gateway);
2. finds each key's execution and checks it SUCCEEDED with its record put on Kinesis (the read API
   is not deployed yet, so "searchable" is proven up to the stream the indexer reads);
3. reads one of those records back from Kinesis and decodes it as the indexer does;
4. uploads a corrupt image and checks its FAILED execution, the state that failed, and its dead
   letter carrying the same error;
5. deletes an object and checks its delete record reaches the stream (from which the indexer
   removes the document);
and cleans up after itself: every object it uploaded is deleted, its dead letter removed.
Each check is a row of a table with a console link; any failed check makes the exit status 1.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from autotagger.errors import UserError
from autotagger.workflow.history import failed_state

# The awkward part of each key: what API Gateway, S3 and EventBridge must carry through unchanged.
AWKWARD_KEYS = {
    "a space": "with space.jpg",
    "a plus": "with+plus.jpg",
    "an é": "café.jpg",
    "a literal %2F": "with%2Fslash.jpg",
}
REQUIRED_OUTPUTS = ("UploadApiUrl", "ApiKeyId", "ImageBucketName", "StateMachineArn", "WorkflowDeadLetterQueueUrl")
CORRUPT_IMAGE = b"\xff\xd8\xff\xe0" + b"this is not a JPEG, only its first bytes are" * 20


@dataclass
class Check:
    name: str
    passed: bool
    detail: str
    link: str = ""


@dataclass
class Deployment:
    """What the smoke test needs of the stack, from its CloudFormation outputs."""

    stack_id: str
    region: str
    api_url: str
    api_key_id: str
    bucket: str
    state_machine_arn: str
    dead_letter_queue_url: str
    outputs: dict[str, str] = field(default_factory=dict)


class Links:
    """AWS console addresses of what a check looked at."""

    def __init__(self, region: str):
        self.region = region
        self.base = f"https://{region}.console.aws.amazon.com"

    def stack(self, stack_id: str) -> str:
        return (
            f"{self.base}/cloudformation/home?region={self.region}#/stacks/stackinfo?stackId={quote(stack_id, safe='')}"
        )

    def object(self, bucket: str, key: str) -> str:
        return f"https://s3.console.aws.amazon.com/s3/object/{bucket}?region={self.region}&prefix={quote(key, safe='')}"

    def prefix(self, bucket: str, prefix: str) -> str:
        query = f"region={self.region}&prefix={quote(prefix, safe='')}"
        return f"https://s3.console.aws.amazon.com/s3/buckets/{bucket}?{query}"

    def state_machine(self, arn: str) -> str:
        return f"{self.base}/states/home?region={self.region}#/statemachines/view/{arn}"

    def execution(self, arn: str) -> str:
        return f"{self.base}/states/home?region={self.region}#/v2/executions/details/{arn}"

    def stream(self, name: str) -> str:
        return f"{self.base}/kinesis/home?region={self.region}#/streams/details/{name}/monitoring"

    def queue(self, url: str) -> str:
        return f"{self.base}/sqs/v3/home?region={self.region}#/queues/{quote(url, safe='')}"


def test_image() -> bytes:
    """A small JPEG with some structure (Rekognition needs an image, not a colour)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 240), (90, 140, 200))
    draw = ImageDraw.Draw(image)
    draw.ellipse((100, 60, 220, 180), fill=(240, 200, 60))
    draw.rectangle((0, 190, 320, 240), fill=(60, 150, 70))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def read_deployment(cloudformation: Any, stack: str, region: str) -> Deployment:
    try:
        described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    except Exception as exc:  # noqa: BLE001 - botocore's ClientError and no-credentials errors alike
        raise UserError(f"cannot read stack {stack!r} in {region}: {exc}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs") or []}
    missing = [name for name in REQUIRED_OUTPUTS if name not in outputs]
    if missing:
        raise UserError(f"stack {stack!r} has no output {', '.join(missing)}: is it the autotagger stack?")
    return Deployment(
        stack_id=described["StackId"],
        region=region,
        api_url=outputs["UploadApiUrl"],
        api_key_id=outputs["ApiKeyId"],
        bucket=outputs["ImageBucketName"],
        state_machine_arn=outputs["StateMachineArn"],
        dead_letter_queue_url=outputs["WorkflowDeadLetterQueueUrl"],
        outputs=outputs,
    )


def upload_url(api_url: str, bucket: str, key: str) -> str:
    """`PUT /v1/{bucket}/{object}`: the key is one path segment, so everything in it is escaped,
    its slashes and a literal `%` included (API Gateway decodes a path parameter once)."""
    return f"{api_url.rstrip('/')}/{quote(bucket, safe='')}/{quote(key, safe='')}"


class Smoke:
    """One smoke run against one deployment; `run()` returns the checks in order."""

    def __init__(
        self,
        stack: str,
        *,
        region: str | None = None,
        session: Any = None,
        timeout: float = 90.0,
        poll: float = 2.0,
        run_id: str | None = None,
        log: Callable[[str], None] = lambda _: None,
    ):
        import boto3

        self.session = session or boto3.session.Session(region_name=region)
        self.region = region or self.session.region_name
        if not self.region:
            raise UserError("no AWS region: pass --region or set AWS_REGION")
        self.stack = stack
        self.timeout = timeout
        self.poll = poll
        self.prefix = f"smoke/{run_id or time.strftime('%Y%m%dT%H%M%S') + '-' + uuid.uuid4().hex[:6]}/"
        self.log = log
        self.links = Links(self.region)
        self._clients: dict[str, Any] = {}
        self._uploaded: list[str] = []
        self._inputs: dict[str, dict[str, Any]] = {}  # execution inputs by ARN
        self._started = time.time()

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service, region_name=self.region)
        return self._clients[service]

    # -- the run -----------------------------------------------------------------------------------

    def run(self) -> list[Check]:
        checks: list[Check] = []
        try:
            deployment = read_deployment(self.client("cloudformation"), self.stack, self.region)
        except UserError as exc:
            return [Check("stack outputs", False, str(exc), self.links.stack(self.stack))]
        self.deployment = deployment
        checks.append(
            Check(
                "stack outputs",
                True,
                f"{len(deployment.outputs)} outputs, bucket {deployment.bucket}",
                self.links.stack(deployment.stack_id),
            )
        )
        try:
            api_key = self.client("apigateway").get_api_key(apiKey=deployment.api_key_id, includeValue=True)["value"]
            import httpx

            with httpx.Client(timeout=30.0) as http:
                self._http, self._api_key = http, api_key
                checks += self._steps()
        except Exception as exc:  # noqa: BLE001 - a check that cannot run is a failed check, not a traceback
            checks.append(
                Check("smoke run", False, f"{type(exc).__name__}: {exc}", self.links.stack(deployment.stack_id))
            )
        finally:
            checks += self._cleanup()
        return checks

    def _steps(self) -> list[Check]:
        d = self.deployment
        executions_link = self.links.state_machine(d.state_machine_arn)  # where a check that found none points
        body = test_image()
        checks, uploaded = [], {}
        for label, name in AWKWARD_KEYS.items():
            key = self.prefix + name
            checks.append(
                self._guarded(
                    f"upload, key with {label}",
                    self.links.object(d.bucket, key),
                    functools.partial(self._upload, key, body),
                )
            )
            if checks[-1].passed:
                uploaded[key] = label
        executions: dict[str, dict[str, Any]] = {}
        for key, label in uploaded.items():
            checks.append(
                self._guarded(
                    f"tagged, key with {label}", executions_link, functools.partial(self._tagged, key, executions)
                )
            )
        tagged = [key for key in uploaded if key in executions]
        if tagged:
            checks.append(
                self._guarded(
                    "Kinesis record decoded", executions_link, lambda: self._kinesis_record(executions[tagged[0]])
                )
            )
        else:
            checks.append(
                Check("Kinesis record decoded", False, "no execution put a record to read back", executions_link)
            )
        checks.append(
            self._guarded("corrupt image dead-lettered", self.links.queue(d.dead_letter_queue_url), self._corrupt_image)
        )
        if tagged:
            checks.append(
                self._guarded("delete record on the stream", executions_link, lambda: self._delete(tagged[-1]))
            )
        else:
            checks.append(Check("delete record on the stream", False, "no tagged object to delete", executions_link))
        return checks

    def _guarded(self, name: str, link: str, step: Callable[[], tuple[str, str] | str]) -> Check:
        """Runs one check; an exception (an AssertionError's message, an AWS error) fails it."""
        self.log(f"smoke: {name}")
        try:
            answer = step()
        except Exception as exc:  # noqa: BLE001
            detail = str(exc) if isinstance(exc, (AssertionError, TimeoutError)) else f"{type(exc).__name__}: {exc}"
            return Check(name, False, detail, getattr(exc, "link", "") or link)
        detail, found_link = answer if isinstance(answer, tuple) else (answer, "")
        return Check(name, True, detail, found_link or link)

    # -- the steps ---------------------------------------------------------------------------------

    def _upload(self, key: str, body: bytes, content_type: str = "image/jpeg") -> str:
        d = self.deployment
        answer = self._http.put(
            upload_url(d.api_url, d.bucket, key),
            content=body,
            headers={"x-api-key": self._api_key, "content-type": content_type},
        )
        if answer.status_code != 200:
            raise AssertionError(f"PUT answered {answer.status_code}: {answer.text[:200]}")
        self._uploaded.append(key)
        etag = self.client("s3").head_object(Bucket=d.bucket, Key=key)["ETag"].strip('"')
        md5 = hashlib.md5(body).hexdigest()
        if etag != md5:
            raise AssertionError(
                f"S3 ETag {etag} is not the MD5 {md5} of the {len(body)} bytes sent: the body "
                "was changed on its way through API Gateway"
            )
        return f"stored as {key!r}, ETag = MD5 {md5}"

    def _execution_for(self, key: str, detail_type: str) -> dict[str, Any]:
        """Waits for the execution EventBridge started for `key` (and `detail_type`) to end."""
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + self.timeout
        while True:
            for summary in sfn.list_executions(stateMachineArn=self.deployment.state_machine_arn, maxResults=100)[
                "executions"
            ]:
                arn = summary["executionArn"]
                if summary["startDate"].timestamp() < self._started - 300:  # 5 min of clock skew allowed
                    continue
                if arn not in self._inputs:  # an input never changes: described once
                    self._inputs[arn] = json.loads(sfn.describe_execution(executionArn=arn).get("input") or "{}")
                event = self._inputs[arn]
                if (
                    event.get("detail-type") != detail_type
                    or ((event.get("detail") or {}).get("object") or {}).get("key") != key
                ):
                    continue
                described = sfn.describe_execution(executionArn=arn)
                if described["status"] != "RUNNING":
                    return described
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"no finished {detail_type!r} execution for {key!r} after {self.timeout:.0f} s "
                    "(is the EventBridge rule enabled?)"
                )
            time.sleep(self.poll)

    def _tagged(self, key: str, found: dict[str, dict[str, Any]]) -> tuple[str, str]:
        execution = self._execution_for(key, "Object Created")
        link = self.links.execution(execution["executionArn"])
        output = json.loads(execution.get("output") or "{}")
        record, stream = output.get("record") or {}, output.get("stream") or {}
        if execution["status"] != "SUCCEEDED" or not stream.get("SequenceNumber"):
            raise _Failed(f"execution {execution['status']}: {execution.get('error')} {execution.get('cause')}", link)
        if record.get("key") != key:
            raise _Failed(f"the record names key {record.get('key')!r}, not {key!r}", link)
        found[key] = execution
        labels = [label.get("Name") for label in record.get("labels") or []]
        return (
            f"SUCCEEDED, on the stream as {stream['ShardId']} #{stream['SequenceNumber'][-8:]}, "
            f"labels {', '.join(labels[:4]) or '(none)'}"
        ), link

    def _stream_name(self) -> str:
        """The stream the workflow writes to, from its definition (substitutions applied)."""
        definition = json.loads(
            self.client("stepfunctions").describe_state_machine(stateMachineArn=self.deployment.state_machine_arn)[
                "definition"
            ]
        )
        for state in definition["States"].values():
            if str(state.get("Resource", "")).endswith(":kinesis:putRecord"):
                return state["Parameters"]["StreamName"]
        raise AssertionError("the state machine has no kinesis:putRecord task")

    def _kinesis_record(self, execution: dict[str, Any]) -> tuple[str, str]:
        from autotagger.stream_indexer import decode_record

        stream = json.loads(execution["output"])["stream"]
        name = self._stream_name()
        kinesis = self.client("kinesis")
        iterator = kinesis.get_shard_iterator(
            StreamName=name,
            ShardId=stream["ShardId"],
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            StartingSequenceNumber=stream["SequenceNumber"],
        )["ShardIterator"]
        records = kinesis.get_records(ShardIterator=iterator, Limit=1)["Records"]
        if not records:
            raise _Failed(f"no record at {stream['ShardId']} #{stream['SequenceNumber']}", self.links.stream(name))
        # As the indexer Lambda receives it: base64 of the stored bytes.
        decoded = decode_record(
            {
                "kinesis": {
                    "sequenceNumber": records[0]["SequenceNumber"],
                    "data": base64.b64encode(records[0]["Data"]).decode(),
                }
            }
        )
        expected = json.loads(execution["output"])["record"]
        if (decoded["key"], decoded["action"]) != (expected["key"], "upsert"):
            raise _Failed(
                f"decoded {decoded['action']} of {decoded['key']!r}, expected the upsert of {expected['key']!r}",
                self.links.stream(name),
            )
        return (
            f"{len(records[0]['Data'])} bytes from {name}: upsert of {decoded['key']!r} with "
            f"{len(decoded.get('labels') or [])} labels"
        ), self.links.stream(name)

    def _corrupt_image(self) -> tuple[str, str]:
        key = self.prefix + "corrupt.jpg"
        self._upload(key, CORRUPT_IMAGE)
        execution = self._execution_for(key, "Object Created")
        link = self.links.execution(execution["executionArn"])
        if execution["status"] != "FAILED":
            raise _Failed(f"the execution of a corrupt image ended {execution['status']}, not FAILED", link)
        failed_state = self._failed_state(execution["executionArn"])
        letter = self._take_dead_letter(key)
        if letter is None:
            raise _Failed(
                f"FAILED in {failed_state} with {execution.get('error')}, but no dead letter names {key!r}",
                self.links.queue(self.deployment.dead_letter_queue_url),
            )
        if letter.get("error") != execution.get("error") or letter.get("execution_id") != execution["executionArn"]:
            raise _Failed(
                f"the dead letter says {letter.get('error')} of {letter.get('execution_id')}, the execution "
                f"{execution.get('error')}",
                link,
            )
        return f"FAILED in {failed_state}: {execution.get('error')}; dead letter received and removed", link

    def _failed_state(self, execution_arn: str) -> str:
        """The state the execution failed in, as the API and the dashboard name it (one rule:
        `autotagger.workflow.history.failed_state`)."""
        events = self.client("stepfunctions").get_execution_history(executionArn=execution_arn, maxResults=1000)[
            "events"
        ]
        return failed_state(events) or "?"

    def _take_dead_letter(self, key: str) -> dict[str, Any] | None:
        """Receives the queue's messages until the one for `key`, which is deleted (cleanup); the
        others are made visible again at once for whoever else reads the queue."""
        sqs, url = self.client("sqs"), self.deployment.dead_letter_queue_url
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            messages = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30, WaitTimeSeconds=1
            ).get("Messages", [])
            for message in messages:
                try:
                    body = json.loads(message["Body"])
                    ours = body["event"]["detail"]["object"]["key"] == key
                except (ValueError, KeyError, TypeError):
                    ours = False
                if ours:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                    return body
                sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
            if not messages:
                time.sleep(self.poll)
        return None

    def _delete(self, key: str) -> tuple[str, str]:
        self.client("s3").delete_object(Bucket=self.deployment.bucket, Key=key)
        self._uploaded.remove(key)
        execution = self._execution_for(key, "Object Deleted")
        link = self.links.execution(execution["executionArn"])
        record = json.loads(execution.get("output") or "{}").get("record") or {}
        if execution["status"] != "SUCCEEDED" or record.get("action") != "delete":
            raise _Failed(f"the delete's execution ended {execution['status']} with record {record}", link)
        return f"delete record of {key!r} on the stream: the indexer removes its document", link

    def _cleanup(self) -> list[Check]:
        if not self._uploaded:
            return []
        s3 = self.client("s3")
        left = []
        for key in list(self._uploaded):
            try:
                s3.delete_object(Bucket=self.deployment.bucket, Key=key)
                self._uploaded.remove(key)
            except Exception:  # noqa: BLE001 - reported below, the other keys are still deleted
                left.append(key)
        detail = "every uploaded object deleted" if not left else f"could not delete {left}"
        return [Check("cleanup", not left, detail, self.links.prefix(self.deployment.bucket, self.prefix))]


class _Failed(AssertionError):
    """A failed check with the console link of what shows the failure."""

    def __init__(self, message: str, link: str):
        super().__init__(message)
        self.link = link


def table(checks: list[Check]) -> str:
    rows = [["PASS" if c.passed else "FAIL", c.name, c.detail, c.link] for c in checks]
    headers = ["result", "check", "detail", "console"]
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    widths[-1] = 0  # the link is last and never padded
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines)
