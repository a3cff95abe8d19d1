"""`autotagger smoke` against a deployment made of moto and a local stand-in for API Gateway.

The deployment: moto's S3, Kinesis, SQS, API Gateway (the API key), CloudFormation (a stack whose
outputs are the deployed stack's) and Step Functions running the real ASL file
(`execute_state_machine`). What moto cannot do is stood in for, and nothing else:
- API Gateway's `PUT /v1/{bucket}/{object}` S3 integration: a real HTTP server on 127.0.0.1 that
  checks the x-api-key, decodes each path segment once (as API Gateway decodes a path parameter)
  and puts the body into moto's S3;
- S3 -> EventBridge -> Step Functions (moto's EventBridge never starts a state machine, and its S3
  events lack `etag` and an ISO `time`): every object created or deleted in moto's S3 starts an
  execution with the event as AWS sends it (tests/events/eventbridge_object_*.json);
- Rekognition reading the image: moto answers one canned label for anything, so DetectLabels here
  refuses objects that are not JPEG or PNG with InvalidImageFormatException, as Rekognition does.
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from unittest import mock
from urllib.parse import unquote

import boto3
import pytest
from moto import mock_aws
from moto.core.exceptions import JsonRESTError
from moto.rekognition.responses import RekognitionResponse

from autotagger.cli import main
from autotagger.contracts import NORMALIZE_FUNCTION_NAME, definition_substitutions, function_arn
from autotagger.smoke import AWKWARD_KEYS, Smoke, table
from autotagger.workflow import StateMachine

ROOT = Path(__file__).resolve().parents[2]
ASL = ROOT / "statemachine" / "image_tagging.asl.json"
EVENTS = ROOT / "tests" / "events"
REGION, ACCOUNT, BUCKET, STREAM, STACK = "us-east-1", "123456789012", "image-vaults-smoke", "image-records", "Autotagger"
API_KEY = "smoke-test-key-0123456789abcdef"


class ApiGateway:
    """The upload API on loopback: `PUT /v1/{bucket}/{object}` into moto's S3."""

    def __init__(self, mangle_body: bool = False):
        s3 = boto3.client("s3", region_name=REGION)

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self):
                segments = self.path.split("?", 1)[0].split("/")
                if len(segments) != 4 or segments[:2] != ["", "v1"]:
                    return self._answer(404, {"message": "Missing Authentication Token"})
                if self.headers.get("x-api-key") != API_KEY:
                    return self._answer(403, {"message": "Forbidden"})
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                if mangle_body:  # a binary body passed through as text, as a misconfigured API would
                    body = body.decode("utf-8", errors="replace").encode("utf-8")
                bucket, key = unquote(segments[2]), unquote(segments[3])
                s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=self.headers.get("content-type"))
                self._answer(200, {})

            def _answer(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class EventRule:
    """S3 -> EventBridge -> StartExecution: the events AWS sends, for moto's S3 notifications."""

    def __init__(self, state_machine_arn: str):
        self.arn = state_machine_arn
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        self._sequencer = itertools.count(0x5E9A2B4C8D10F1A)
        self.started: list[dict] = []

    def __call__(self, account_id, event_name, bucket, key):
        kind = "created" if event_name.startswith("s3:ObjectCreated") else \
            "deleted" if event_name.startswith("s3:ObjectRemoved") else None
        if kind is None:
            return
        event = copy.deepcopy(json.loads((EVENTS / f"eventbridge_object_{kind}.json").read_text()))
        event.update(id=str(uuid.uuid4()), time=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                     resources=[f"arn:aws:s3:::{bucket.name}"])
        event["detail"]["bucket"]["name"] = bucket.name
        obj = event["detail"]["object"]
        obj.update(key=key.name, sequencer=f"{next(self._sequencer):018X}")
        if kind == "created":
            obj.update(size=key.size, etag=key.etag.strip('"'))
        self.started.append(event)
        self.sfn.start_execution(stateMachineArn=self.arn, name=uuid.uuid4().hex, input=json.dumps(event))


def _detect_labels_reading_s3(original):
    def detect_labels(self):
        from moto.s3.models import s3_backends

        s3_object = json.loads(self.body)["Image"]["S3Object"]
        data = s3_backends[ACCOUNT]["aws"].get_object(s3_object["Bucket"], s3_object["Name"]).value
        if not (data.startswith(b"\x89PNG\r\n\x1a\n") or (data.startswith(b"\xff\xd8\xff") and data.endswith(b"\xff\xd9"))):
            raise JsonRESTError("InvalidImageFormatException", "Request has invalid image format")
        return original(self)

    return detect_labels


@pytest.fixture
def aws(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield


def deploy(mangle_body: bool = False) -> dict:
    s3, kinesis, sqs = (boto3.client(n, region_name=REGION) for n in ("s3", "kinesis", "sqs"))
    s3.create_bucket(Bucket=BUCKET)
    kinesis.create_stream(StreamName=STREAM, ShardCount=1)
    queue_url = sqs.create_queue(QueueName="autotagger-workflow-dead-letters")["QueueUrl"]
    key_id = boto3.client("apigateway", region_name=REGION).create_api_key(
        name="autotagger", value=API_KEY, enabled=True)["id"]
    substitutions = definition_substitutions(max_labels=20, min_confidence=55, stream_name=STREAM,
                                             dead_letter_queue_url=queue_url,
                                             normalize_function=function_arn(NORMALIZE_FUNCTION_NAME))
    definition = StateMachine.from_file(ASL, substitutions=substitutions, name="image-tagging").definition
    state_machine_arn = boto3.client("stepfunctions", region_name=REGION).create_state_machine(
        name="image-tagging", definition=json.dumps(definition),
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/image-tagging")["stateMachineArn"]
    api = ApiGateway(mangle_body)
    outputs = {"UploadApiUrl": api.url, "ApiKeyId": key_id, "ImageBucketName": BUCKET,
               "StateMachineArn": state_machine_arn, "WorkflowDeadLetterQueueUrl": queue_url}
    template = {"Resources": {"Marker": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "stack-marker"}}},
                "Outputs": {name: {"Value": value} for name, value in outputs.items()}}
    boto3.client("cloudformation", region_name=REGION).create_stack(StackName=STACK, TemplateBody=json.dumps(template))
    return {"api": api, "queue_url": queue_url, "state_machine_arn": state_machine_arn}


def wait_for_executions(state_machine_arn: str, timeout: float = 60) -> None:
    """Lets the executions the smoke run left (its cleanup's deletes) end inside this mock, so none
    of them writes into the next test's services."""
    sfn = boto3.client("stepfunctions", region_name=REGION)
    deadline = time.monotonic() + timeout
    while sfn.list_executions(stateMachineArn=state_machine_arn, statusFilter="RUNNING")["executions"]:
        assert time.monotonic() < deadline, "executions still running"
        time.sleep(0.05)


@pytest.fixture
def deployment(aws):
    deployed = deploy()
    rule = EventRule(deployed["state_machine_arn"])
    with mock.patch("moto.s3.notifications.send_event", rule), \
            mock.patch.object(RekognitionResponse, "detect_labels",
                              _detect_labels_reading_s3(RekognitionResponse.detect_labels)):
        yield {**deployed, "rule": rule}
        wait_for_executions(deployed["state_machine_arn"])
    deployed["api"].close()


def smoke() -> Smoke:
    return Smoke(STACK, region=REGION, timeout=60, poll=0.05)


def test_GIVEN_a_working_deployment_WHEN_smoke_tested_THEN_every_check_passes_with_a_console_link(deployment):
    checks = smoke().run()

    assert [c for c in checks if not c.passed] == [], table(checks)
    names = [c.name for c in checks]
    assert names == (["stack outputs"] + [f"upload, key with {label}" for label in AWKWARD_KEYS]
                     + [f"tagged, key with {label}" for label in AWKWARD_KEYS]
                     + ["Kinesis record decoded", "corrupt image dead-lettered", "delete record on the stream", "cleanup"])
    assert all(c.link.startswith("https://") and ".console.aws.amazon.com/" in c.link for c in checks)
    corrupt = next(c for c in checks if c.name == "corrupt image dead-lettered")
    assert "FAILED in DetectLabels" in corrupt.detail and "InvalidImageFormatException" in corrupt.detail


def test_GIVEN_awkward_keys_WHEN_uploaded_through_the_api_THEN_they_arrive_in_s3_exactly_as_named(deployment):
    run = smoke()
    run.run()

    created = [e["detail"]["object"]["key"] for e in deployment["rule"].started if e["detail-type"] == "Object Created"]
    assert sorted(created) == sorted([run.prefix + name for name in AWKWARD_KEYS.values()] + [run.prefix + "corrupt.jpg"])
    assert run.prefix + "café.jpg" in created and run.prefix + "with%2Fslash.jpg" in created


def test_GIVEN_a_smoke_run_WHEN_done_THEN_it_left_no_object_and_no_dead_letter_behind(deployment):
    smoke().run()

    assert boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
    attributes = boto3.client("sqs", region_name=REGION).get_queue_attributes(
        QueueUrl=deployment["queue_url"], AttributeNames=["ApproximateNumberOfMessages",
                                                          "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    assert attributes == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}


def test_GIVEN_someone_elses_dead_letter_in_the_queue_WHEN_smoke_tested_THEN_it_is_left_there(deployment):
    sqs = boto3.client("sqs", region_name=REGION)
    sqs.send_message(QueueUrl=deployment["queue_url"], MessageBody=json.dumps({"event": {"detail": {"object": {"key": "x.jpg"}}}}))

    checks = smoke().run()

    assert all(c.passed for c in checks), table(checks)
    left = sqs.receive_message(QueueUrl=deployment["queue_url"], MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["event"]["detail"]["object"]["key"] for m in left] == ["x.jpg"]


def test_GIVEN_an_api_that_mangles_binary_bodies_WHEN_smoke_tested_THEN_the_uploads_fail_on_the_etag_and_it_exits_1(
        aws, capsys):
    deployed = deploy(mangle_body=True)
    rule = EventRule(deployed["state_machine_arn"])
    try:
        with mock.patch("moto.s3.notifications.send_event", rule):
            status = main(["smoke", "--stack", STACK, "--region", REGION, "--timeout", "5"])
            wait_for_executions(deployed["state_machine_arn"])
    finally:
        deployed["api"].close()

    out = capsys.readouterr().out
    assert status == 1
    upload_rows = [line for line in out.splitlines() if "upload, key with" in line]
    assert len(upload_rows) == len(AWKWARD_KEYS)
    assert all(row.startswith("FAIL") and "is not the MD5" in row for row in upload_rows)
    # Every row, failed ones included, points at a console page to look further.
    rows = out.splitlines()[1:]
    assert rows and all("https://" in row and ".console.aws.amazon.com/" in row for row in rows)


def test_GIVEN_no_such_stack_WHEN_smoke_tested_THEN_one_failed_check_says_so_and_it_exits_1(aws, capsys):
    status = main(["smoke", "--stack", "NotThere", "--region", REGION])

    out = capsys.readouterr().out
    assert status == 1
    assert out.splitlines()[1].startswith("FAIL") and "cannot read stack 'NotThere'" in out
