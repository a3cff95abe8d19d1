"""The workflow file's normalising routes, run by the engine with in-memory adapters: which
objects go straight to DetectLabels, which are normalised first, and what the states pass on."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import pytest

from autotagger import contracts
from autotagger.errors import ImageTooLargeException, InvalidImageFormatException
from autotagger.local.task_adapters import LambdaFunctionError
from autotagger.normalize import CorruptImage
from autotagger.workflow import StateMachine, TaskRegistry

ROOT = Path(__file__).resolve().parents[2]
NORMALIZE_ARN = contracts.function_arn(contracts.NORMALIZE_FUNCTION_NAME)
LABELS = {"Labels": [{"Name": "Cat", "Confidence": 97.5}], "LabelModelVersion": "3.0"}
PAYLOAD = {"bucket": "image-vaults", "key": contracts.DERIVATIVES_PREFIX + "abc", "source_format": "HEIF", "frames": 1,
           "analyzed_frame": 0, "orientation": 6, "width": 3024, "height": 4032}


class Services:
    def __init__(self, *detect_outcomes, normalize=None):
        self.detect_outcomes = list(detect_outcomes) or [LABELS]
        self.detect_calls: list[dict] = []
        self.invocations: list[dict] = []
        self.normalize = normalize
        self.records: list[dict] = []
        self.letters: list[dict] = []
        self.deleted: list[dict] = []
        self.registry = TaskRegistry()
        self.registry.register("arn:aws:states:::aws-sdk:rekognition:detectLabels", self._detect)
        self.text_calls: list[dict] = []
        self.moderation_calls: list[dict] = []
        self.registry.register("arn:aws:states:::aws-sdk:rekognition:detectText", lambda p: self.text_calls.append(
            p["Image"]["S3Object"]) or {"TextDetections": [], "TextModelVersion": "3.0"})
        self.registry.register("arn:aws:states:::aws-sdk:rekognition:detectModerationLabels",
                               lambda p: self.moderation_calls.append(p["Image"]["S3Object"])
                               or {"ModerationLabels": [], "ModerationModelVersion": "7.0"})
        self.registry.register("arn:aws:states:::lambda:invoke", self._invoke)
        self.registry.register("arn:aws:states:::aws-sdk:s3:deleteObject", lambda p: self.deleted.append(p) or {})
        self.registry.register("arn:aws:states:::aws-sdk:kinesis:putRecord",
                               lambda p: self.records.append(json.loads(p["Data"])) or {"SequenceNumber": "1",
                                                                                        "ShardId": "shardId-0"})
        self.registry.register("arn:aws:states:::sqs:sendMessage",
                               lambda p: self.letters.append(json.loads(p["MessageBody"])) or {"MessageId": "m"})

    def _detect(self, parameters):
        self.detect_calls.append(parameters["Image"]["S3Object"])
        outcome = self.detect_outcomes.pop(0) if len(self.detect_outcomes) > 1 else self.detect_outcomes[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def _invoke(self, parameters):
        self.invocations.append(parameters)
        if self.normalize is not None:
            raise LambdaFunctionError(self.normalize)
        return {"ExecutedVersion": "$LATEST", "StatusCode": 200, "Payload": PAYLOAD}


@pytest.fixture
def sm():
    substitutions = contracts.definition_substitutions(max_labels=20, min_confidence=55, stream_name="images",
                                                       dead_letter_queue_url="https://sqs.local/dlq",
                                                       normalize_function=NORMALIZE_ARN)
    return StateMachine.from_file(contracts.ASL_FILE, substitutions=substitutions, name="image-tagging",
                                  sleeper=lambda s: None)


def event(name="object_created.json", **fields):
    value = copy.deepcopy(json.loads((ROOT / "tests/events" / name).read_text()))
    value["detail"]["object"].update(fields)
    return value


SUFFIX = "OnDerivative"


def _renamed(value, suffix: str):
    """`value` (a state or part of one) with `suffix` removed from the names of states it refers to."""
    if isinstance(value, dict):
        return {(k[:-len(suffix)] if k.endswith(suffix) else k): _renamed(v, suffix) for k, v in value.items()
                if k != "Comment"}
    if isinstance(value, list):
        return [_renamed(v, suffix) for v in value]
    return value[:-len(suffix)] if isinstance(value, str) and value.endswith(suffix) else value


def test_GIVEN_the_two_parallel_analyses_WHEN_read_THEN_they_are_the_same_but_for_state_names_and_the_refusal_route():
    """AnalyzeOnDerivative is Analyze with 'OnDerivative' after every state name (names are unique in
    a state machine): same branches, calls, Retry, settings and results. Only the Catch differs: a
    refusal of the original goes to Normalize, every failure on the derivative is a dead letter."""
    states = json.loads(contracts.ASL_FILE.read_text())["States"]
    original, derivative = states["Analyze"], states["AnalyzeOnDerivative"]
    names = {name for branch in derivative["Branches"] for name in branch["States"]}
    assert names and all(name.endswith(SUFFIX) for name in names)
    assert {k: v for k, v in _renamed(derivative, SUFFIX).items() if k != "Catch"} == \
        {k: v for k, v in _renamed(original, SUFFIX).items() if k != "Catch"}
    assert [c["Next"] for c in original["Catch"]] == ["LocateDerivative", "BuildDeadLetter"]
    assert derivative["Catch"] == [original["Catch"][-1]]
    assert states["Normalize"]["Next"] == "AnalyzeOnDerivative" and states["AnalyzeOriginal"]["Next"] == "Analyze"


@pytest.mark.parametrize("key", ["a.jpg", "b.JPEG", "c.PNG", "d.png"])
def test_GIVEN_a_jpeg_or_png_key_of_at_most_15_mb_WHEN_run_THEN_detect_labels_reads_the_original_with_no_other_call(
        sm, key):
    services = Services()
    execution = sm.run(event(key=key, size=contracts.MAX_IMAGE_BYTES), services.registry)

    assert execution.status == "SUCCEEDED" and services.invocations == []
    assert services.detect_calls == [{"Bucket": "image-vaults", "Name": key}]
    assert services.records[0]["analysis"] == {"bucket": "image-vaults", "key": key, "normalized": False}


@pytest.mark.parametrize("fields", [{"key": "IMG_1.HEIC"}, {"key": "a.webp"}, {"key": "a.Avif"}, {"key": "a.gif"},
                                    {"key": "a.heif"}, {"key": "big.jpg", "size": contracts.MAX_IMAGE_BYTES + 1},
                                    {"key": "mixed-case.Jpg"}])  # only all-lower/all-upper go direct
def test_GIVEN_an_original_rekognition_cannot_read_WHEN_run_THEN_it_is_normalised_and_the_derivative_analysed(
        sm, fields):
    services = Services()
    execution = sm.run(event(**fields), services.registry)

    assert execution.status == "SUCCEEDED" and len(services.invocations) == 1
    invocation = services.invocations[0]
    assert invocation["FunctionName"] == NORMALIZE_ARN
    assert invocation["Payload"]["key"] == fields["key"]
    assert invocation["Payload"]["derivative_key"].startswith(contracts.DERIVATIVES_PREFIX)
    assert services.detect_calls == services.text_calls == services.moderation_calls == [
        {"Bucket": "image-vaults", "Name": PAYLOAD["key"]}]
    analysis = services.records[0]["analysis"]
    assert (analysis["key"], analysis["normalized"], analysis["source_format"]) == (PAYLOAD["key"], True, "HEIF")
    assert services.records[0]["key"] == fields["key"]


@pytest.mark.parametrize("refusal", [InvalidImageFormatException("Request has invalid image format"),
                                     ImageTooLargeException("too many pixels")])
def test_GIVEN_a_jpg_rekognition_refuses_WHEN_run_THEN_it_is_normalised_once_and_analysed_again(sm, refusal):
    services = Services(refusal, LABELS)
    execution = sm.run(event(key="photo.jpg"), services.registry)

    assert execution.status == "SUCCEEDED" and len(services.invocations) == 1
    assert [call["Name"] for call in services.detect_calls] == ["photo.jpg", PAYLOAD["key"]]


def test_GIVEN_a_derivative_rekognition_also_refuses_WHEN_run_THEN_a_dead_letter_without_a_second_normalisation(sm):
    services = Services(InvalidImageFormatException("Request has invalid image format"))
    execution = sm.run(event(key="photo.heic"), services.registry)

    assert (execution.status, execution.error, len(services.invocations)) == (
        "FAILED", "Rekognition.InvalidImageFormatException", 1)
    assert services.letters[0]["error"] == "Rekognition.InvalidImageFormatException"


def test_GIVEN_normalize_refuses_the_original_WHEN_run_THEN_the_dead_letter_names_the_function_error(sm):
    services = Services(normalize=CorruptImage("The HEIF data is corrupt or truncated: cut"))
    execution = sm.run(event(key="cut.heic"), services.registry)

    assert (execution.status, execution.error) == ("FAILED", "CorruptImage")
    assert json.loads(services.letters[0]["cause"])["errorMessage"] == "The HEIF data is corrupt or truncated: cut"
    assert services.detect_calls == []


def test_GIVEN_an_original_over_the_source_limit_WHEN_run_THEN_a_dead_letter_before_any_call(sm):
    services = Services()
    execution = sm.run(event(key="huge.jpg", size=contracts.MAX_SOURCE_BYTES + 1), services.registry)

    assert execution.error == "Autotagger.ObjectTooLarge" and services.invocations == services.detect_calls == []


def test_GIVEN_a_deleted_original_WHEN_run_THEN_its_derivative_is_deleted_before_the_delete_record(sm):
    services = Services()
    execution = sm.run(event("object_deleted.json", key="IMG_1.HEIC"), services.registry)

    assert execution.status == "SUCCEEDED"
    assert services.deleted == [{"Bucket": "image-vaults", "Key": contracts.DERIVATIVES_PREFIX
                                 + hashlib.sha256(b"IMG_1.HEIC").hexdigest()}]
    assert services.records[0]["action"] == "delete"


def test_GIVEN_an_event_for_a_derivative_WHEN_run_THEN_nothing_is_called(sm):
    services = Services()
    execution = sm.run(event(key=PAYLOAD["key"]), services.registry)

    assert execution.status == "SUCCEEDED"
    assert services.detect_calls == services.invocations == services.records == services.letters == []
