"""The API Lambda as deployed, minus AWS: Step Functions (running the real ASL), SQS, S3 and Kinesis
in moto, the index in osmem-server, and `functions/api/handler.handler` invoked directly with API
Gateway REST proxy events (moto's Lambda would need Docker)."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
from jsonschema import Draft202012Validator

from autotagger.api import aws as api_aws
from autotagger.api import openapi_document
from autotagger.contracts import NORMALIZE_FUNCTION_NAME, definition_substitutions, function_arn
from autotagger.domain.documents import action_from_record, parse_record
from autotagger.index.opensearch import OpenSearchIndex
from autotagger.workflow import StateMachine

ROOT = Path(__file__).resolve().parents[2]
ASL = ROOT / "statemachine" / "image_tagging.asl.json"
EVENTS = ROOT / "tests" / "events"
BUCKET, STREAM, REGION, ACCOUNT = "image-vaults", "image-records", "us-east-1", "123456789012"
API_KEY = "test-api-key-0123456789"
DOCUMENT = openapi_document()


def rest_event(method: str, path: str, query: dict[str, list[str]] | None = None, body: str | None = None) -> dict:
    """An API Gateway REST API proxy event (API Gateway Developer Guide, "Input format of a Lambda
    function for proxy integration"), as the `/{proxy+}` resource under stage `prod` sends it."""
    headers = {"Host": "abc123.execute-api.us-east-1.amazonaws.com", "User-Agent": "pytest", "x-api-key": API_KEY,
               "X-Forwarded-For": "203.0.113.10", "X-Forwarded-Proto": "https"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    now = datetime.now(UTC)
    return {
        "resource": "/{proxy+}", "path": path, "httpMethod": method,
        "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} if query else None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": {"proxy": path.lstrip("/")}, "stageVariables": None,
        "requestContext": {
            "resourceId": "a1b2c3", "resourcePath": "/{proxy+}", "httpMethod": method, "path": f"/prod{path}",
            "stage": "prod", "requestId": str(uuid.uuid4()), "accountId": ACCOUNT, "apiId": "abc123",
            "protocol": "HTTP/1.1", "domainName": headers["Host"], "extendedRequestId": "Ab1Cd2Ef3Gh=",
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"), "requestTimeEpoch": int(now.timestamp() * 1000),
            "identity": {"sourceIp": "203.0.113.10", "userAgent": "pytest", "apiKey": API_KEY, "apiKeyId": "k1"},
        },
        "body": body, "isBase64Encoded": False,
    }


def schema_for(method: str, template: str, status: int) -> dict[str, Any]:
    """The response schema the document declares for this route and status, resolvable on its own."""
    response = DOCUMENT["paths"][template][method.lower()]["responses"][str(status)]
    while "$ref" in response:
        target = DOCUMENT
        for part in response["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        response = target
    return {**response["content"]["application/json"]["schema"], "components": DOCUMENT["components"]}


class Deployment:
    """The resources CDK deploys, in moto, and the Lambda's environment pointing at them."""

    def __init__(self, index_url: str, monkeypatch, context):
        self.context = context
        self.s3 = api_aws.s3_client(REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        self.kinesis = boto3.client("kinesis", region_name=REGION)
        self.s3.create_bucket(Bucket=BUCKET)
        self.kinesis.create_stream(StreamName=STREAM, ShardCount=1)
        self.queues = {name: self.sqs.create_queue(QueueName=f"autotagger-{name}-dlq")["QueueUrl"]
                       for name in ("workflow", "rule", "indexer")}
        machine = StateMachine.from_file(ASL, name="image-tagging", substitutions=definition_substitutions(
            max_labels=20, min_confidence=55, stream_name=STREAM, dead_letter_queue_url=self.queues["workflow"],
            normalize_function=function_arn(NORMALIZE_FUNCTION_NAME, region=REGION, account=ACCOUNT)))
        self.state_machine_arn = self.sfn.create_state_machine(
            name="image-tagging", definition=json.dumps(machine.definition),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/image-tagging")["stateMachineArn"]
        shard = self.kinesis.describe_stream(StreamName=STREAM)["StreamDescription"]["Shards"][0]["ShardId"]
        self._iterator = self.kinesis.get_shard_iterator(StreamName=STREAM, ShardId=shard,
                                                         ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        self.index = OpenSearchIndex.from_url(index_url, refresh=True)
        for name, value in {
            "OPENSEARCH_ENDPOINT": index_url, "STATE_MACHINE_ARN": self.state_machine_arn, "IMAGE_BUCKET": BUCKET,
            "WORKFLOW_DLQ_URL": self.queues["workflow"], "RULE_DLQ_URL": self.queues["rule"],
            "INDEXER_DLQ_URL": self.queues["indexer"], "AWS_REGION": REGION,
        }.items():
            monkeypatch.setenv(name, value)

    # -- what happens before anyone calls the API --------------------------------------------------

    def upload(self, key: str, data: bytes, content_type: str = "image/jpeg") -> dict[str, Any]:
        """Puts the object and answers the EventBridge "Object Created" event S3 then sends."""
        put = self.s3.put_object(Bucket=BUCKET, Key=key, Body=data, ContentType=content_type)
        event = json.loads((EVENTS / "object_created.json").read_text())
        event["detail"]["object"].update(key=key, size=len(data), etag=put["ETag"].strip('"'),
                                         sequencer=f"{time.time_ns():020X}")
        return event

    def run(self, event: dict[str, Any], name: str | None = None) -> dict[str, Any]:
        """Runs the workflow on `event` (moto runs the ASL) and waits for it to end."""
        arn = self.sfn.start_execution(stateMachineArn=self.state_machine_arn, name=name or uuid.uuid4().hex,
                                       input=json.dumps(event))["executionArn"]
        return self.wait(arn)

    def wait(self, arn: str) -> dict[str, Any]:
        deadline = time.monotonic() + 60
        while True:
            described = self.sfn.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING" or time.monotonic() > deadline:
                return described
            time.sleep(0.05)

    def settle(self) -> None:
        """Waits for every execution still running (moto runs them on threads that would otherwise
        send their dead letters into the next test's queues)."""
        for execution in self.sfn.list_executions(stateMachineArn=self.state_machine_arn, statusFilter="RUNNING",
                                                  maxResults=1000)["executions"]:
            self.wait(execution["executionArn"])

    def index_stream(self) -> int:
        """What the indexer Lambda does with the new Kinesis records: one index write each."""
        answer = self.kinesis.get_records(ShardIterator=self._iterator)
        self._iterator = answer["NextShardIterator"]
        actions = [action_from_record(parse_record(record["Data"]), datetime.now(UTC))
                   for record in answer["Records"]]
        self.index.apply(actions)
        return len(actions)

    def index_record(self, key: str, *labels: tuple[str, float], event_time: str = "2026-11-25T12:00:00Z") -> None:
        record = {"action": "upsert", "bucket": BUCKET, "key": key, "size": 10, "etag": "e", "event_time": event_time,
                  "sequencer": f"{time.time_ns():020X}", "labels": [{"Name": n, "Confidence": c} for n, c in labels]}
        self.index.apply([action_from_record(parse_record(record), datetime.now(UTC))])

    def executions_named(self, name: str) -> list[dict[str, Any]]:
        listed = self.sfn.list_executions(stateMachineArn=self.state_machine_arn, maxResults=1000)["executions"]
        return [e for e in listed if e["name"] == name]

    def queue_ids(self, name: str) -> set[str]:
        """The message ids in a queue, leaving them there (received with visibility 0)."""
        ids: set[str] = set()
        for _ in range(5):
            for message in self.sqs.receive_message(QueueUrl=self.queues[name], MaxNumberOfMessages=10,
                                                    VisibilityTimeout=0).get("Messages", []):
                ids.add(message["MessageId"])
        return ids

    # -- the API -----------------------------------------------------------------------------------

    def call(self, method: str, path: str, query: dict[str, list[str]] | None = None,
             body: Any = None, *, template: str | None = None) -> tuple[int, Any]:
        """Invokes the handler as API Gateway would; checks the answer against the document when
        `template` names the route."""
        from functions.api import handler as api_handler

        text = body if body is None or isinstance(body, str) else json.dumps(body)
        response = api_handler.handler(rest_event(method, path, query, text), self.context)
        assert response["multiValueHeaders"]["Content-Type"] == ["application/json"]
        answer = json.loads(response["body"])
        if template is not None:
            Draft202012Validator(schema_for(method, template, response["statusCode"])).validate(answer)
        return response["statusCode"], answer


def signed_headers(url: str) -> set[str]:
    return set(parse_qs(urlsplit(url).query)["X-Amz-SignedHeaders"][0].split(";"))
