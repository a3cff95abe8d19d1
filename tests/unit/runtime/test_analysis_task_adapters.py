"""The DetectText and DetectModerationLabels adapters answer like Rekognition and fail with its
error names, and an ASL Parallel naming their resources runs on the local engine."""

from __future__ import annotations

import threading

import pytest

from autotagger.contracts import DETECT_MODERATION_DEFAULT_MIN_CONFIDENCE
from autotagger.errors import InvalidImageFormatException, ServiceError
from autotagger.local.task_adapters import (
    DETECT_LABELS_ARN,
    DETECT_MODERATION_LABELS_ARN,
    DETECT_TEXT_ARN,
    AnalyserSlots,
    BoundedModerationDetector,
    BoundedTextDetector,
    detect_labels_adapter,
    detect_moderation_labels_adapter,
    detect_text_adapter,
)
from autotagger.workflow import StateMachine, TaskRegistry
from tests.fakes import JPEG_MAGIC, FakeLabeler, FakeModerationDetector, FakeObjectStore, FakeTextDetector

PHOTO = JPEG_MAGIC + b"jpeg-bytes"
FLAGGED = ({"Name": "Explicit", "ParentName": "", "TaxonomyLevel": 1, "Confidence": 81.0},
           {"Name": "Explicit Nudity", "ParentName": "Explicit", "TaxonomyLevel": 2, "Confidence": 81.0},
           {"Name": "Exposed Male Nipple", "ParentName": "Non-Explicit Nudity", "TaxonomyLevel": 3,
            "Confidence": 30.0})


def image(name="raw-image/sign.jpg", bucket="image-vaults"):
    return {"Image": {"S3Object": {"Bucket": bucket, "Name": name}}}


def test_GIVEN_a_stored_photo_WHEN_detect_text_runs_THEN_the_detector_gets_its_bytes_and_its_answer_is_returned():
    detector = FakeTextDetector(lines=("HARBOUR MASTER",))
    adapter = detect_text_adapter(FakeObjectStore.holding({"raw-image/sign.jpg": PHOTO}), detector)

    response = adapter(image())

    assert detector.calls == [PHOTO]
    assert [(d["DetectedText"], d["Type"], d["Id"], d.get("ParentId")) for d in response["TextDetections"]] == [
        ("HARBOUR MASTER", "LINE", 0, None), ("HARBOUR", "WORD", 1, 0), ("MASTER", "WORD", 2, 0)]
    assert response["TextModelVersion"] == "fake-ocr-1"


@pytest.mark.parametrize("adapter_for", [lambda b: detect_text_adapter(b, FakeTextDetector()),
                                         lambda b: detect_moderation_labels_adapter(b, FakeModerationDetector())],
                         ids=["detectText", "detectModerationLabels"])
@pytest.mark.parametrize("objects, parameters, error", [
    ({}, image(), "Rekognition.InvalidS3ObjectException"),
    ({"raw-image/sign.jpg": PHOTO}, image(bucket="someone-elses"), "Rekognition.InvalidS3ObjectException"),
    ({"raw-image/sign.jpg": PHOTO}, {"Image": {"S3Object": {"Bucket": "image-vaults"}}},
     "Rekognition.InvalidParameterException"),
    ({"raw-image/sign.jpg": b"GIF89a not for Rekognition"}, image(), "Rekognition.InvalidImageFormatException"),
], ids=["missing object", "another bucket", "no name", "not an image"])
def test_GIVEN_an_object_Rekognition_cannot_read_WHEN_an_analysis_runs_THEN_it_fails_with_Rekognitions_error(
        adapter_for, objects, parameters, error):
    adapter = adapter_for(FakeObjectStore.holding(objects))

    with pytest.raises(ServiceError) as raised:
        adapter(parameters)

    assert raised.value.error_name == error


def test_GIVEN_DetectText_Filters_WHEN_the_adapter_runs_THEN_they_are_refused_not_ignored():
    adapter = detect_text_adapter(FakeObjectStore.holding({"raw-image/sign.jpg": PHOTO}), FakeTextDetector())

    with pytest.raises(ServiceError) as raised:
        adapter({**image(), "Filters": {"WordFilter": {"MinConfidence": 90}}})

    assert raised.value.error_name == "Rekognition.InvalidParameterException"


def test_GIVEN_no_MinConfidence_WHEN_moderation_runs_THEN_Rekognitions_default_of_50_applies():
    detector = FakeModerationDetector(labels=FLAGGED)
    adapter = detect_moderation_labels_adapter(FakeObjectStore.holding({"raw-image/sign.jpg": PHOTO}), detector)

    default = adapter(image())
    lenient = adapter({**image(), "MinConfidence": 20})

    assert detector.calls == [(PHOTO, DETECT_MODERATION_DEFAULT_MIN_CONFIDENCE), (PHOTO, 20.0)]
    assert [label["Name"] for label in default["ModerationLabels"]] == ["Explicit", "Explicit Nudity"]
    assert len(lenient["ModerationLabels"]) == 3


@pytest.mark.parametrize("parameters", [{"MinConfidence": "high"}, {"HumanLoopConfig": {"HumanLoopName": "x"}},
                                        {"ProjectVersion": "arn:aws:rekognition:adapter"}])
def test_GIVEN_a_parameter_the_local_detector_cannot_honour_WHEN_moderation_runs_THEN_InvalidParameterException(
        parameters):
    adapter = detect_moderation_labels_adapter(FakeObjectStore.holding({"raw-image/sign.jpg": PHOTO}), FakeModerationDetector())

    with pytest.raises(ServiceError) as raised:
        adapter({**image(), **parameters})

    assert raised.value.error_name == "Rekognition.InvalidParameterException"


def test_GIVEN_shared_slots_WHEN_text_and_moderation_calls_overlap_THEN_no_more_than_the_slots_run_at_once():
    running, peak, lock, gate = [0], [0], threading.Lock(), threading.Event()

    def held():
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        gate.wait(5)
        with lock:
            running[0] -= 1

    class HeldText(FakeTextDetector):
        def detect_text(self, image_bytes):
            held()
            return super().detect_text(image_bytes)

    class HeldModeration(FakeModerationDetector):
        def detect_moderation_labels(self, image_bytes, min_confidence=50.0):
            held()
            return super().detect_moderation_labels(image_bytes, min_confidence)

    slots, built = AnalyserSlots(2), []
    bounded_text = BoundedTextDetector(lambda: built.append("text") or HeldText(), slots)
    bounded_moderation = BoundedModerationDetector(lambda: built.append("moderation") or HeldModeration(), slots)
    threads = [threading.Thread(target=bounded_text.detect_text, args=(PHOTO,)) for _ in range(3)]
    threads += [threading.Thread(target=bounded_moderation.detect_moderation_labels, args=(PHOTO,)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for _ in range(500):  # until both slots are taken, then a moment for a third call to (wrongly) get in
        if running[0] == 2:
            break
        threading.Event().wait(0.01)
    threading.Event().wait(0.1)
    gate.set()
    for thread in threads:
        thread.join(5)

    assert peak[0] == 2
    assert sorted(set(built)) == ["moderation", "text"]


def _analyze_definition():
    """A Parallel with the three analyses, as the tagging workflow runs them after normalisation."""
    def task(resource, extra=None):
        return {"Type": "Task", "Resource": resource, "End": True,
                "Parameters": {"Image": {"S3Object": {"Bucket.$": "$.bucket", "Name.$": "$.key"}}, **(extra or {})}}

    return {"StartAt": "Analyze", "States": {"Analyze": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "Labels", "States": {"Labels": task(DETECT_LABELS_ARN, {"MaxLabels": 5, "MinConfidence": 55})}},
        {"StartAt": "Text", "States": {"Text": {**task(DETECT_TEXT_ARN), "ResultSelector": {
            "TextDetections.$": "$.TextDetections", "TextModelVersion.$": "$.TextModelVersion"}}}},
        {"StartAt": "Moderation", "States": {"Moderation": {**task(DETECT_MODERATION_LABELS_ARN), "ResultSelector": {
            "ModerationLabels.$": "$.ModerationLabels",
            "ModerationModelVersion.$": "$.ModerationModelVersion"}}}},
    ]}}}


def test_GIVEN_a_Parallel_of_the_three_analyses_WHEN_the_local_engine_runs_it_THEN_each_branch_answers_like_Rekognition():
    bucket = FakeObjectStore.holding({"raw-image/sign.jpg": PHOTO})
    registry = (TaskRegistry()
                .register(DETECT_LABELS_ARN, detect_labels_adapter(bucket, FakeLabeler(jpeg="Sign")))
                .register(DETECT_TEXT_ARN, detect_text_adapter(bucket, FakeTextDetector(lines=("HARBOUR",))))
                .register(DETECT_MODERATION_LABELS_ARN, detect_moderation_labels_adapter(
                    bucket, FakeModerationDetector(labels=FLAGGED))))

    execution = StateMachine(_analyze_definition(), name="analyze").run(
        {"bucket": bucket.name, "key": "raw-image/sign.jpg"}, registry)

    assert execution.status == "SUCCEEDED"
    labels, text, moderation = execution.output
    assert labels["Labels"][0]["Name"] == "Sign"
    assert [d["DetectedText"] for d in text["TextDetections"]] == ["HARBOUR", "HARBOUR"]
    assert [label["Name"] for label in moderation["ModerationLabels"]] == ["Explicit", "Explicit Nudity"]


def test_GIVEN_a_text_branch_that_fails_WHEN_the_engine_runs_it_THEN_its_error_carries_Rekognitions_name():
    bucket = FakeObjectStore.holding({"raw-image/sign.jpg": PHOTO})
    registry = (TaskRegistry()
                .register(DETECT_LABELS_ARN, detect_labels_adapter(bucket, FakeLabeler()))
                .register(DETECT_TEXT_ARN, detect_text_adapter(bucket, FakeTextDetector(
                    error=InvalidImageFormatException("Request has invalid image format"))))
                .register(DETECT_MODERATION_LABELS_ARN, detect_moderation_labels_adapter(bucket,
                                                                                         FakeModerationDetector())))

    execution = StateMachine(_analyze_definition(), name="analyze").run(
        {"bucket": bucket.name, "key": "raw-image/sign.jpg"}, registry)

    assert (execution.status, execution.error) == ("FAILED", "Rekognition.InvalidImageFormatException")


def test_GIVEN_a_pipeline_WHEN_started_THEN_its_registry_runs_DetectText_and_DetectModerationLabels_on_its_detectors(
        make_pipeline):
    text, moderation = FakeTextDetector(lines=("HARBOUR",)), FakeModerationDetector(labels=FLAGGED)
    with make_pipeline(text_detector=text, moderation_detector=moderation) as pipeline:
        pipeline.stores.bucket.put("raw-image/sign.jpg", PHOTO)
        registry = pipeline._registry
        parameters = image(bucket=pipeline.bucket_name)

        found = registry.get(DETECT_TEXT_ARN)(parameters)
        flagged = registry.get(DETECT_MODERATION_LABELS_ARN)(parameters)

    assert text.calls == [PHOTO] and moderation.calls == [(PHOTO, DETECT_MODERATION_DEFAULT_MIN_CONFIDENCE)]
    assert found["TextDetections"][0]["DetectedText"] == "HARBOUR"
    assert flagged["ModerationLabels"][0]["Name"] == "Explicit"


def test_GIVEN_a_text_fault_WHEN_the_pipelines_text_task_runs_THEN_it_fails_as_Rekognition_would_and_moderation_does_not(
        make_pipeline):
    from autotagger.faults import FaultPlan

    with make_pipeline(text_detector=FakeTextDetector(), moderation_detector=FakeModerationDetector(),
                       faults=FaultPlan.parse(["text.fail"])) as pipeline:
        pipeline.stores.bucket.put("raw-image/sign.jpg", PHOTO)
        registry, parameters = pipeline._registry, image(bucket=pipeline.bucket_name)

        with pytest.raises(ServiceError) as raised:
            registry.get(DETECT_TEXT_ARN)(parameters)
        flagged = registry.get(DETECT_MODERATION_LABELS_ARN)(parameters)

    assert raised.value.error_name == "Rekognition.AccessDeniedException"
    assert flagged["ModerationLabels"] == []
