"""Parity: the workflow file under moto's Step Functions interpreter and under the local engine.

Both run against the same moto S3, Kinesis and SQS (the local engine through the aws-sdk
adapters of `autotagger.workflow.aws_sdk`), with the same EventBridge S3 events, and must end in
the same status and send the same stream record or dead letter — equal except for what is
per-execution (execution ARN, failure time).

What moto 5.2 can and cannot do here, found by running it:
- it runs the whole definition: Choice with IsPresent/StringMatches, intrinsics (Format, Hash,
  JsonToString, StringToJson), `$$.Execution.Input`, `$$.State.EnteredTime`, Catch, and a Fail
  state with ErrorPath/CausePath;
- its Rekognition never reads S3 and always answers one canned label ("Mobile Phone"), so a
  missing object still "succeeds"; a permanent Rekognition failure is simulated by making moto's
  Rekognition backend raise InvalidS3ObjectException (both engines then see the same error);
- it names aws-sdk errors with the lower-case service from the ARN (`rekognition.X...`) where
  Step Functions — and the local engine — say `Rekognition.X...`; the comparison allows that.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from pathlib import Path
from unittest import mock

import boto3
import pytest
from moto import mock_aws
from moto.core.exceptions import JsonRESTError
from moto.rekognition.models import RekognitionBackend

from autotagger.contracts import MAX_SOURCE_BYTES, definition_substitutions
from autotagger.local.task_adapters import LAMBDA_INVOKE_ARN
from autotagger.workflow import StateMachine
from autotagger.workflow.aws_sdk import aws_registry
from tests.parity.normalize_lambda import NORMALIZE_ARN, normalize_registry

ROOT = Path(__file__).resolve().parents[2]
ASL = ROOT / "statemachine" / "image_tagging.asl.json"
EVENTS = ROOT / "tests" / "events"
BUCKET, KEY, STREAM = "image-vaults", "raw-image/dog.jpg", "image-records"


class Services:
    """moto's S3/Kinesis/SQS and Step Functions, plus the local engine wired to the same services."""

    def __init__(self, **analyses: bool):
        self.s3 = boto3.client("s3")
        self.kinesis = boto3.client("kinesis")
        self.sqs = boto3.client("sqs")
        self.sfn = boto3.client("stepfunctions")
        self.s3.create_bucket(Bucket=BUCKET)
        self.s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"\xff\xd8\xff\xe0pixels")
        self.kinesis.create_stream(StreamName=STREAM, ShardCount=1)
        self.queue_url = self.sqs.create_queue(QueueName="image-dead-letters")["QueueUrl"]
        substitutions = definition_substitutions(max_labels=20, min_confidence=55, stream_name=STREAM,
                                                 dead_letter_queue_url=self.queue_url, normalize_function=NORMALIZE_ARN,
                                                 **analyses)
        self.local = StateMachine.from_file(ASL, substitutions=substitutions, name="image-tagging", sleeper=lambda s: None)
        # the Normalize Lambda runs in-process (normalize_lambda.py), everything else is moto's
        self.registry = aws_registry(self.local.resources - {LAMBDA_INVOKE_ARN}, region="us-east-1",
                                     registry=normalize_registry(self.s3))
        self.moto_arn = self.sfn.create_state_machine(name="image-tagging", definition=json.dumps(self.local.definition),
                                                      roleArn="arn:aws:iam::123456789012:role/image-tagging")["stateMachineArn"]
        shard = self.kinesis.describe_stream(StreamName=STREAM)["StreamDescription"]["Shards"][0]["ShardId"]
        self._iterator = self.kinesis.get_shard_iterator(StreamName=STREAM, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]

    def run_moto(self, event: dict) -> dict:
        arn = self.sfn.start_execution(stateMachineArn=self.moto_arn, name=uuid.uuid4().hex, input=json.dumps(event))["executionArn"]
        deadline = time.monotonic() + 60
        while True:
            described = self.sfn.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING" or time.monotonic() > deadline:
                return described
            time.sleep(0.02)

    def run_local(self, event: dict):
        return self.local.run(event, self.registry)

    def new_records(self) -> list[dict]:
        answer = self.kinesis.get_records(ShardIterator=self._iterator)
        self._iterator = answer["NextShardIterator"]
        return [{"PartitionKey": r["PartitionKey"], "Data": json.loads(r["Data"])} for r in answer["Records"]]

    def dead_letters(self) -> list[dict]:
        messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
        for message in messages:
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return [json.loads(message["Body"]) for message in messages]


@pytest.fixture
def services(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield Services()


def event(name: str = "object_created.json", **object_fields) -> dict:
    value = copy.deepcopy(json.loads((EVENTS / name).read_text()))
    value["detail"]["object"].update(object_fields)
    return value


def without(value: dict, *keys: str) -> dict:
    return {k: v for k, v in value.items() if k not in keys}


def same_error(moto_error: str, local_error: str) -> bool:
    """moto names aws-sdk errors `rekognition.X`, Step Functions and the local engine `Rekognition.X`."""
    moto_service, _, moto_code = moto_error.partition(".")
    local_service, _, local_code = local_error.partition(".")
    return moto_code == local_code and moto_service.lower() == local_service.lower()


def run_both(services: Services, value: dict):
    moto_execution = services.run_moto(value)
    moto_out = (services.new_records(), services.dead_letters())
    local_execution = services.run_local(value)
    local_out = (services.new_records(), services.dead_letters())
    return moto_execution, moto_out, local_execution, local_out


def test_GIVEN_an_uploaded_jpeg_WHEN_run_by_moto_and_locally_THEN_both_succeed_with_the_same_upsert_record(services):
    moto_execution, (moto_records, _), local_execution, (local_records, _) = run_both(services, event())
    assert (moto_execution["status"], local_execution.status) == ("SUCCEEDED", "SUCCEEDED")
    assert len(moto_records) == len(local_records) == 1
    assert moto_records[0]["PartitionKey"] == local_records[0]["PartitionKey"]
    assert without(moto_records[0]["Data"], "execution_id") == without(local_records[0]["Data"], "execution_id")
    assert (moto_records[0]["Data"]["execution_id"], local_records[0]["Data"]["execution_id"]) == (moto_execution["executionArn"], local_execution.arn)


def test_GIVEN_a_deleted_object_WHEN_run_by_moto_and_locally_THEN_both_succeed_with_the_same_delete_record(services):
    moto_execution, (moto_records, _), local_execution, (local_records, _) = run_both(services, event("object_deleted.json"))
    assert (moto_execution["status"], local_execution.status) == ("SUCCEEDED", "SUCCEEDED")
    assert [without(r["Data"], "execution_id") | {"pk": r["PartitionKey"]} for r in moto_records] == \
           [without(r["Data"], "execution_id") | {"pk": r["PartitionKey"]} for r in local_records]
    assert local_records[0]["Data"]["action"] == "delete"


@pytest.mark.parametrize("fields, error", [({"size": 0}, "Autotagger.EmptyObject"), ({"size": MAX_SOURCE_BYTES + 1}, "Autotagger.ObjectTooLarge")])
def test_GIVEN_an_object_that_cannot_be_tagged_WHEN_run_by_moto_and_locally_THEN_both_fail_with_the_same_dead_letter(services, fields, error):
    value = event(**fields)
    moto_execution, (moto_records, moto_letters), local_execution, (local_records, local_letters) = run_both(services, value)
    assert (moto_execution["status"], moto_execution.get("error"), local_execution.status, local_execution.error) == ("FAILED", error, "FAILED", error)
    assert moto_execution.get("cause") == local_execution.cause
    assert (moto_records, local_records) == ([], [])
    assert [without(d, "execution_id", "failed_at") for d in moto_letters] == [without(d, "execution_id", "failed_at") for d in local_letters]
    assert local_letters[0]["event"] == value and local_letters[0]["execution_id"] == local_execution.arn


def test_GIVEN_a_permanent_Rekognition_failure_WHEN_run_by_moto_and_locally_THEN_both_fail_with_the_same_dead_letter(services):
    def invalid_object(self, *args, **kwargs):
        raise JsonRESTError("InvalidS3ObjectException", "Unable to get object metadata from S3. Check object key, region and/or access permissions.")

    with mock.patch.object(RekognitionBackend, "detect_labels", invalid_object):
        moto_execution, (moto_records, moto_letters), local_execution, (local_records, local_letters) = run_both(services, event(key="raw-image/missing.jpg"))
    assert (moto_execution["status"], local_execution.status, moto_records, local_records) == ("FAILED", "FAILED", [], [])
    assert same_error(moto_execution["error"], local_execution.error) and local_execution.error == "Rekognition.InvalidS3ObjectException"
    assert same_error(moto_letters[0]["error"], local_letters[0]["error"])
    assert moto_letters[0]["event"] == local_letters[0]["event"]
    assert "Unable to get object metadata from S3" in moto_letters[0]["cause"] and "Unable to get object metadata from S3" in local_letters[0]["cause"]
