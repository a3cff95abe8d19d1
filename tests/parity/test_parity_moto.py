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
  Step Functions — and the local engine — say `Rekognition.X...`; the comparison allows that;
- it runs the Parallel state (Parameters with intrinsics, branch Choices, each branch's own Retry
  and Catch, the ResultSelector's `$[0]` and `$[*].error` over the branch results);
- its DetectText (moto 5.2) never reads S3 either and always answers one canned sign ("IT'S MONDAY
  but keep Smiling": 4 LINE and 5 WORD detections with boxes and polygons, TextModelVersion "3.0");
- it has no DetectModerationLabels at all: the call fails inside its interpreter as `States.Runtime`
  ("The detect_moderation_labels action has not been implemented"), which the moderation branch's
  Catch records like any failure. So that both engines see one answer, the `services` fixture gives
  moto's Rekognition a canned DetectModerationLabels answer (`MODERATION`, patched onto its
  response class); the local engine reaches the same moto endpoint through boto3.
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
from moto.rekognition.responses import RekognitionResponse

from autotagger.contracts import MAX_SOURCE_BYTES, definition_substitutions
from autotagger.local.task_adapters import LAMBDA_INVOKE_ARN
from autotagger.workflow import StateMachine
from autotagger.workflow.aws_sdk import aws_registry
from tests.parity.normalize_lambda import NORMALIZE_ARN, normalize_registry

ROOT = Path(__file__).resolve().parents[2]
ASL = ROOT / "statemachine" / "image_tagging.asl.json"
EVENTS = ROOT / "tests" / "events"
BUCKET, KEY, STREAM = "image-vaults", "raw-image/dog.jpg", "image-records"
MODERATION = {"ModerationLabels": [{"Name": "Alcohol", "ParentName": "", "TaxonomyLevel": 1, "Confidence": 61.5}],
              "ModerationModelVersion": "7.0"}


class Services:
    """moto's S3/Kinesis/SQS and Step Functions, plus the local engine wired to the same services."""

    def __init__(self):
        self.s3 = boto3.client("s3")
        self.kinesis = boto3.client("kinesis")
        self.sqs = boto3.client("sqs")
        self.sfn = boto3.client("stepfunctions")
        self.s3.create_bucket(Bucket=BUCKET)
        self.s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"\xff\xd8\xff\xe0pixels")
        self.kinesis.create_stream(StreamName=STREAM, ShardCount=1)
        self.queue_url = self.sqs.create_queue(QueueName="image-dead-letters")["QueueUrl"]
        self.use()
        shard = self.kinesis.describe_stream(StreamName=STREAM)["StreamDescription"]["Shards"][0]["ShardId"]
        self._iterator = self.kinesis.get_shard_iterator(StreamName=STREAM, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]

    def use(self, **analyses: bool) -> None:
        """Both engines' state machine, with the optional analyses switched on (default) or off."""
        substitutions = definition_substitutions(max_labels=20, min_confidence=55, stream_name=STREAM,
                                                 dead_letter_queue_url=self.queue_url, normalize_function=NORMALIZE_ARN,
                                                 **analyses)
        self.local = StateMachine.from_file(ASL, substitutions=substitutions, name="image-tagging", sleeper=lambda s: None)
        # the Normalize Lambda runs in-process (normalize_lambda.py), everything else is moto's
        self.registry = aws_registry(self.local.resources - {LAMBDA_INVOKE_ARN}, region="us-east-1",
                                     registry=normalize_registry(self.s3))
        name = "image-tagging" + "".join(f"-no-{setting}" for setting, on in sorted(analyses.items()) if not on)
        self.moto_arn = self.sfn.create_state_machine(name=name, definition=json.dumps(self.local.definition),
                                                      roleArn="arn:aws:iam::123456789012:role/image-tagging")["stateMachineArn"]

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
    with (mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
          mock.patch.object(RekognitionResponse, "detect_moderation_labels", create=True,
                            new=lambda self: json.dumps(MODERATION))):
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


# -- the three analyses side by side (the Parallel state) ----------------------------------------

def test_GIVEN_an_uploaded_jpeg_WHEN_run_by_moto_and_locally_THEN_both_records_hold_text_and_moderation(services):
    moto_execution, (moto_records, _), local_execution, (local_records, _) = run_both(services, event())
    assert (moto_execution["status"], local_execution.status) == ("SUCCEEDED", "SUCCEEDED")
    moto_record, local_record = moto_records[0]["Data"], local_records[0]["Data"]
    assert without(moto_record, "execution_id") == without(local_record, "execution_id")
    assert local_record["moderation"] == MODERATION and local_record["analysis_errors"] == []
    assert [d["DetectedText"] for d in local_record["text"]["TextDetections"] if d["Type"] == "LINE"] == \
        ["IT'S", "MONDAY", "but keep", "Smiling"]  # moto's canned sign


def test_GIVEN_DetectText_failing_WHEN_run_by_moto_and_locally_THEN_both_record_the_error_and_keep_the_labels(services):
    def unreadable(self, *args, **kwargs):
        raise JsonRESTError("InvalidImageFormatException", "Request has invalid image format")

    with mock.patch.object(RekognitionBackend, "detect_text", unreadable):
        moto_execution, (moto_records, moto_letters), local_execution, (local_records, local_letters) = \
            run_both(services, event())
    assert (moto_execution["status"], local_execution.status, moto_letters, local_letters) == (
        "SUCCEEDED", "SUCCEEDED", [], [])
    moto_record, local_record = moto_records[0]["Data"], local_records[0]["Data"]
    fields = ("execution_id", "analysis_errors")
    assert without(moto_record, *fields) == without(local_record, *fields)
    assert (local_record["text"], local_record["labels"] != []) == (None, True)
    [moto_error], [local_error] = moto_record["analysis_errors"], local_record["analysis_errors"]
    assert (moto_error["analysis"], local_error["analysis"]) == ("text", "text")
    assert same_error(moto_error["error"], local_error["error"])
    assert local_error["error"] == "Rekognition.InvalidImageFormatException"
    assert "Request has invalid image format" in moto_error["cause"] and \
        "Request has invalid image format" in local_error["cause"]


@pytest.mark.parametrize("setting, field, resource", [("detect_text", "text", "detectText"),
                                                      ("detect_moderation", "moderation", "detectModerationLabels")])
def test_GIVEN_an_optional_analysis_switched_off_WHEN_run_by_moto_and_locally_THEN_neither_calls_it(
        services, setting, field, resource):
    services.use(**{setting: False})
    moto_execution, (moto_records, _), local_execution, (local_records, _) = run_both(services, event())
    assert (moto_execution["status"], local_execution.status) == ("SUCCEEDED", "SUCCEEDED")
    assert without(moto_records[0]["Data"], "execution_id") == without(local_records[0]["Data"], "execution_id")
    assert local_records[0]["Data"][field] is None
    moto_history = services.sfn.get_execution_history(executionArn=moto_execution["executionArn"])["events"]
    moto_calls = [e["taskScheduledEventDetails"]["resource"] for e in moto_history if e["type"] == "TaskScheduled"]
    local_calls = [e["taskScheduledEventDetails"]["resource"] for e in local_execution.history
                   if e["type"] == "TaskScheduled"]
    assert resource not in moto_calls and resource not in local_calls
    assert sorted(moto_calls) == sorted(local_calls)
