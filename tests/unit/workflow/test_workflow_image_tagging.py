"""The project's workflow file run by the engine with in-memory adapters: each route it has."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import pytest
from workflow_helpers import Script, Sleeps

from autotagger.contracts import (
    DERIVATIVES_PREFIX,
    MAX_SOURCE_BYTES,
    NORMALIZE_FUNCTION_NAME,
    definition_substitutions,
    function_arn,
)
from autotagger.errors import (
    InvalidImageFormatException,
    InvalidParameterException,
    InvalidS3ObjectException,
    ThrottlingException,
)
from autotagger.workflow import StateMachine, TaskRegistry

ROOT = Path(__file__).resolve().parents[3]
SUBSTITUTIONS = definition_substitutions(max_labels=20, min_confidence=55, stream_name="images",
                                        dead_letter_queue_url="https://sqs.local/dlq",
                                        normalize_function=function_arn(NORMALIZE_FUNCTION_NAME))
NORMALIZED = {"bucket": "image-vaults", "key": DERIVATIVES_PREFIX + "d", "source_format": "HEIF", "frames": 1,
              "analyzed_frame": 0, "orientation": 6, "width": 300, "height": 400}
LABELS = {"Labels": [{"Name": "Dog", "Confidence": 97.5}], "LabelModelVersion": "3.0"}
TEXT = {"TextDetections": [{"DetectedText": "HARBOUR", "Type": "LINE", "Id": 0, "Confidence": 99.1,
                            "Geometry": {"BoundingBox": {"Width": 0.5, "Height": 0.1, "Left": 0.2, "Top": 0.3},
                                         "Polygon": [{"X": 0.2, "Y": 0.3}, {"X": 0.7, "Y": 0.3}, {"X": 0.7, "Y": 0.4},
                                                     {"X": 0.2, "Y": 0.4}]}}],
        "TextModelVersion": "3.0"}
MODERATION = {"ModerationLabels": [], "ModerationModelVersion": "7.0"}
DETECT_TEXT = "arn:aws:states:::aws-sdk:rekognition:detectText"
DETECT_MODERATION = "arn:aws:states:::aws-sdk:rekognition:detectModerationLabels"


class Services:
    def __init__(self, detect=None, text=None, moderation=None):
        self.detect = detect or Script(LABELS)
        self.text = text or Script(TEXT)
        self.moderation = moderation or Script(MODERATION)
        self.records: list[dict] = []
        self.dead_letters: list[dict] = []
        self.registry = TaskRegistry()
        self.registry.register("arn:aws:states:::aws-sdk:rekognition:detectLabels", self.detect)
        self.registry.register(DETECT_TEXT, self.text)
        self.registry.register(DETECT_MODERATION, self.moderation)
        self.registry.register("arn:aws:states:::aws-sdk:kinesis:putRecord", self.put_record)
        self.registry.register("arn:aws:states:::sqs:sendMessage", self.send)
        self.normalize = Script({"Payload": NORMALIZED})
        self.registry.register("arn:aws:states:::lambda:invoke", self.normalize)
        self.registry.register("arn:aws:states:::aws-sdk:s3:deleteObject", Script({}))

    def put_record(self, parameters):
        self.records.append(parameters)
        return {"SequenceNumber": str(len(self.records)), "ShardId": "shardId-000000000000"}

    def send(self, parameters):
        self.dead_letters.append(parameters)
        return {"MessageId": "m-1", "MD5OfMessageBody": hashlib.md5(parameters["MessageBody"].encode()).hexdigest()}


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
def sm(sleeps):
    return StateMachine.from_file(ROOT / "statemachine/image_tagging.asl.json", substitutions=SUBSTITUTIONS, name="image-tagging", sleeper=sleeps)


def event(name="object_created.json", **object_fields):
    value = json.loads((ROOT / "tests/events" / name).read_text())
    value = copy.deepcopy(value)
    value["detail"]["object"].update(object_fields)
    return value


def test_GIVEN_an_uploaded_jpeg_WHEN_run_THEN_an_upsert_record_with_labels_goes_to_the_stream(sm):
    services = Services()
    execution = sm.run(event(), services.registry, execution_name="x1")
    record = json.loads(services.records[0]["Data"])
    assert execution.status == "SUCCEEDED"
    assert record == {"action": "upsert", "bucket": "image-vaults", "key": "raw-image/dog.jpg", "size": 5, "etag": "b1946ac92492d2347c6235b4d2611184",
                      "sequencer": "617f08299329d189", "event_time": "2021-11-12T00:00:00Z", "labels": LABELS["Labels"],
                      "label_model_version": "3.0", "text": TEXT, "moderation": MODERATION, "analysis_errors": [],
                      "execution_id": execution.arn,
                      "analysis": {"bucket": "image-vaults", "key": "raw-image/dog.jpg", "normalized": False}}


def test_GIVEN_an_uploaded_jpeg_WHEN_run_THEN_the_partition_key_is_the_MD5_of_bucket_slash_key(sm):
    services = Services()
    sm.run(event(), services.registry)
    assert (services.records[0]["PartitionKey"], services.records[0]["StreamName"]) == (hashlib.md5(b"image-vaults/raw-image/dog.jpg").hexdigest(), "images")


def test_GIVEN_an_uploaded_jpeg_WHEN_run_THEN_DetectLabels_gets_the_object_and_the_substituted_limits(sm):
    services = Services()
    sm.run(event(), services.registry)
    assert services.detect.calls == [{"Image": {"S3Object": {"Bucket": "image-vaults", "Name": "raw-image/dog.jpg"}}, "MaxLabels": 20, "MinConfidence": 55}]


def test_GIVEN_a_deleted_object_WHEN_run_THEN_a_delete_record_goes_to_the_stream_without_labelling(sm):
    services = Services()
    execution = sm.run(event("object_deleted.json"), services.registry)
    assert (execution.status, json.loads(services.records[0]["Data"])["action"], services.detect.calls) == ("SUCCEEDED", "delete", [])


@pytest.mark.parametrize("fields, error", [
    ({"size": 0}, "Autotagger.EmptyObject"),
    ({"size": MAX_SOURCE_BYTES + 1}, "Autotagger.ObjectTooLarge"),
    ({"size": "5"}, "Autotagger.MalformedEvent"),
])
def test_GIVEN_an_object_that_cannot_be_tagged_WHEN_run_THEN_it_becomes_a_dead_letter_and_the_execution_fails(sm, fields, error):
    services = Services()
    execution = sm.run(event(**fields), services.registry)
    letter = json.loads(services.dead_letters[0]["MessageBody"])
    assert (execution.status, execution.error, letter["error"], services.detect.calls) == ("FAILED", error, error, [])


def test_GIVEN_a_key_that_is_no_image_name_sent_by_hand_WHEN_run_THEN_rekognition_decides(sm):
    """The EventBridge rule keeps such keys away (contracts.tagging_rule_pattern); one that reaches
    the workflow anyway is left to DetectLabels, whose refusal becomes the dead letter."""
    services = Services()
    sm.run(event(key="notes.txt"), services.registry)
    assert len(services.detect.calls) == 1


@pytest.mark.parametrize("key", ["a.JPG", "b.Jpeg", "c.png", "d.pNg"])
def test_GIVEN_image_keys_in_any_case_WHEN_run_THEN_they_are_tagged(sm, key):
    assert sm.run(event(key=key), Services().registry).status == "SUCCEEDED"


def test_GIVEN_an_event_of_another_type_WHEN_run_THEN_it_becomes_an_UnsupportedEvent_dead_letter(sm):
    services = Services()
    value = event()
    value["detail-type"] = "Object Restore Completed"
    assert sm.run(value, services.registry).error == "Autotagger.UnsupportedEvent"


def test_GIVEN_a_dead_letter_WHEN_sent_THEN_it_holds_the_original_event_error_cause_and_execution(sm):
    services = Services(Script(InvalidImageFormatException("Request has invalid image format")))
    original = event()
    execution = sm.run(original, services.registry)
    letter = json.loads(services.dead_letters[0]["MessageBody"])
    assert {k: letter[k] for k in ("event", "error", "cause", "execution_id")} == {
        "event": original, "error": "Rekognition.InvalidImageFormatException", "cause": "Request has invalid image format", "execution_id": execution.arn}


def test_GIVEN_a_permanent_Rekognition_error_WHEN_run_THEN_it_is_not_retried(sm):
    services = Services(Script(InvalidS3ObjectException("bad")))
    sm.run(event(), services.registry)
    assert len(services.detect.calls) == 1


def test_GIVEN_Rekognition_throttling_twice_WHEN_run_THEN_it_is_retried_with_jittered_backoff_and_succeeds(sm, sleeps):
    services = Services(Script(ThrottlingException("slow"), ThrottlingException("slow"), LABELS))
    execution = sm.run(event(), services.registry)
    assert (execution.status, len(services.detect.calls), len(sleeps), 0 <= sleeps[0] <= 1, 0 <= sleeps[1] <= 2) == ("SUCCEEDED", 3, 2, True, True)


def test_GIVEN_a_failing_stream_WHEN_run_THEN_the_record_becomes_a_dead_letter(sm):
    services = Services()

    def broken(parameters):
        raise KeyError("stream gone")

    services.registry.register("arn:aws:states:::aws-sdk:kinesis:putRecord", broken)
    execution = sm.run(event(), services.registry)
    assert (execution.error, len(services.dead_letters)) == ("States.TaskFailed", 1)


# -- the three analyses (the Parallel state Analyze) ---------------------------------------------

def machine_with(sleeps, **analyses):
    substitutions = definition_substitutions(max_labels=20, min_confidence=55, stream_name="images",
                                             dead_letter_queue_url="https://sqs.local/dlq",
                                             normalize_function=function_arn(NORMALIZE_FUNCTION_NAME), **analyses)
    return StateMachine.from_file(ROOT / "statemachine/image_tagging.asl.json", substitutions=substitutions,
                                  name="image-tagging", sleeper=sleeps)


def scheduled(execution) -> list[str]:
    """The task calls the execution made, from its history."""
    return sorted(e["taskScheduledEventDetails"]["resource"] for e in execution.history if e["type"] == "TaskScheduled")


def test_GIVEN_an_uploaded_jpeg_WHEN_run_THEN_the_three_analyses_read_the_same_object(sm):
    services = Services()
    execution = sm.run(event(), services.registry)
    image = {"S3Object": {"Bucket": "image-vaults", "Name": "raw-image/dog.jpg"}}
    assert (services.text.calls, services.moderation.calls) == ([{"Image": image}], [{"Image": image}])
    assert scheduled(execution) == ["detectLabels", "detectModerationLabels", "detectText", "putRecord"]


def test_GIVEN_DetectText_failing_WHEN_run_THEN_the_error_is_recorded_and_the_labels_are_kept(sm):
    services = Services(text=Script(InvalidParameterException("Request has invalid parameters")))
    execution = sm.run(event(), services.registry)
    record = json.loads(services.records[0]["Data"])
    assert execution.status == "SUCCEEDED" and services.dead_letters == []
    assert (record["labels"], record["text"], record["moderation"]) == (LABELS["Labels"], None, MODERATION)
    assert record["analysis_errors"] == [{"analysis": "text", "error": "Rekognition.InvalidParameterException",
                                          "cause": "Request has invalid parameters"}]
    assert len(services.text.calls) == 1  # a permanent error: not retried


def test_GIVEN_both_optional_analyses_failing_WHEN_run_THEN_both_errors_are_recorded_in_branch_order(sm):
    services = Services(text=Script(KeyError("boom")), moderation=Script(InvalidS3ObjectException("gone")))
    execution = sm.run(event(), services.registry)
    record = json.loads(services.records[0]["Data"])
    assert execution.status == "SUCCEEDED" and record["labels"] == LABELS["Labels"]
    assert [(e["analysis"], e["error"]) for e in record["analysis_errors"]] == [
        ("text", "States.TaskFailed"), ("moderation", "Rekognition.InvalidS3ObjectException")]


def test_GIVEN_DetectModerationLabels_throttled_once_WHEN_run_THEN_it_is_retried_and_its_answer_recorded(sm, sleeps):
    services = Services(moderation=Script(ThrottlingException("slow"), MODERATION))
    execution = sm.run(event(), services.registry)
    record = json.loads(services.records[0]["Data"])
    assert (execution.status, len(services.moderation.calls), len(sleeps)) == ("SUCCEEDED", 2, 1)
    assert 0 <= sleeps[0] <= 1  # the first retry of the throttling retrier: full jitter up to 1 s
    assert (record["moderation"], record["analysis_errors"]) == (MODERATION, [])


def test_GIVEN_DetectLabels_failing_while_the_others_succeed_WHEN_run_THEN_a_dead_letter_with_rekognitions_error(sm):
    services = Services(Script(InvalidS3ObjectException("Unable to get object metadata from S3")))
    execution = sm.run(event(), services.registry)
    letter = json.loads(services.dead_letters[0]["MessageBody"])
    assert (execution.status, execution.error, services.records) == ("FAILED", "Rekognition.InvalidS3ObjectException", [])
    assert (letter["error"], letter["cause"]) == ("Rekognition.InvalidS3ObjectException",
                                                  "Unable to get object metadata from S3")


@pytest.mark.parametrize("setting, resource, field", [("detect_text", "detectText", "text"),
                                                      ("detect_moderation", "detectModerationLabels", "moderation")])
def test_GIVEN_an_optional_analysis_switched_off_WHEN_run_THEN_it_is_never_called_and_recorded_as_null(
        sleeps, setting, resource, field):
    services = Services()
    execution = machine_with(sleeps, **{setting: False}).run(event(), services.registry)
    record = json.loads(services.records[0]["Data"])
    assert execution.status == "SUCCEEDED" and resource not in scheduled(execution)
    assert (record[field], record["analysis_errors"], record["labels"]) == (None, [], LABELS["Labels"])
    other = {"text": "moderation", "moderation": "text"}[field]
    assert record[other] == {"text": TEXT, "moderation": MODERATION}[other]


def test_GIVEN_both_optional_analyses_switched_off_WHEN_run_THEN_only_DetectLabels_is_called(sleeps):
    services = Services()
    execution = machine_with(sleeps, detect_text=False, detect_moderation=False).run(event(), services.registry)
    assert scheduled(execution) == ["detectLabels", "putRecord"]
    assert services.text.calls == services.moderation.calls == []
