"""The normalising workflow against moto's S3, Rekognition, Kinesis and SQS: the ASL run by the
local engine with the aws-sdk adapters and the Normalize Lambda's handler invoked in-process
(moto's Lambda needs Docker), so the derivative is read and written through boto3 exactly as the
deployed function does. moto's own Step Functions runs the delete path (s3:deleteObject)."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from autotagger.contracts import DERIVATIVES_PREFIX
from tests.normalize.images import RED_BOX, noise_jpeg, photo, red_box
from tests.parity.test_parity_moto import BUCKET, event
from tests.parity.test_parity_moto import services as services  # the fixture, re-exported for pytest


def _derivative(key: str) -> str:
    return DERIVATIVES_PREFIX + hashlib.sha256(key.encode()).hexdigest()


def _put(services, key: str, data: bytes) -> dict:
    services.s3.put_object(Bucket=BUCKET, Key=key, Body=data)
    return event(key=key, size=len(data))


@pytest.mark.parametrize("fmt, orientation", [("heic", 6), ("heic", 1), ("webp", 8), ("avif", 3), ("gif", 1)])
def test_GIVEN_a_phone_or_web_format_in_s3_WHEN_run_THEN_an_upright_jpeg_derivative_is_analysed(
        services, fmt, orientation):
    key = f"raw-image/IMG_0001.{fmt}"
    execution = services.run_local(_put(services, key, photo(fmt, orientation)))

    assert execution.status == "SUCCEEDED"
    [record] = services.new_records()
    assert record["Data"]["key"] == key and record["Data"]["analysis"]["key"] == _derivative(key)
    assert record["Data"]["labels"]  # moto's canned label, for the derivative
    stored = services.s3.get_object(Bucket=BUCKET, Key=_derivative(key))
    assert stored["ContentType"] == "image/jpeg"
    derivative = Image.open(io.BytesIO(stored["Body"].read()))
    assert derivative.format == "JPEG" and derivative.size == (320, 240)
    for side, value in red_box(derivative).items():
        assert value == pytest.approx(RED_BOX[side], abs=0.03)


def test_GIVEN_a_40_mb_camera_jpeg_in_s3_WHEN_run_THEN_it_is_normalised_first(services):
    key = "raw-image/DSC_0001.JPG"
    execution = services.run_local(_put(services, key, noise_jpeg(7_000, 5_000)))

    assert execution.status == "SUCCEEDED"
    names = [e["stateEnteredEventDetails"]["name"] for e in execution.history if e["type"] == "TaskStateEntered"]
    # The three analyses run side by side: their order in the history is whichever started first.
    assert (names[0], sorted(names[1:4]), names[4:]) == (
        "Normalize", ["DetectLabelsOnDerivative", "DetectModerationLabelsOnDerivative", "DetectTextOnDerivative"],
        ["PutRecord"])
    assert Image.open(io.BytesIO(services.s3.get_object(Bucket=BUCKET, Key=_derivative(key))["Body"].read())).size \
        == (4096, 2926)


_HEIC = photo("heic", 6, (640, 480))


@pytest.mark.parametrize("key, data, error", [
    ("raw-image/cut.heic", _HEIC[: len(_HEIC) * 2 // 3], "CorruptImage"),
    ("raw-image/scan.webp", b"%PDF-1.7\n" + bytes(500), "UnsupportedImageFormat"),
    # The rule never starts an execution for a key that is no image (contracts.tagging_rule_pattern);
    # an event sent by hand for one is normalised, and Normalize reads the bytes.
    ("raw-image/notes.txt", b"just some notes\n" * 40, "UnsupportedImageFormat"),
])
def test_GIVEN_an_original_normalize_refuses_WHEN_run_THEN_the_dead_letter_names_the_function_error(
        services, key, data, error):
    execution = services.run_local(_put(services, key, data))

    assert (execution.status, execution.error) == ("FAILED", error)
    [letter] = services.dead_letters()
    assert letter["error"] == error and f'"errorType": "{error}"' in letter["cause"]
    assert "Contents" not in services.s3.list_objects_v2(Bucket=BUCKET, Prefix=DERIVATIVES_PREFIX)


def test_GIVEN_a_normalised_original_WHEN_its_delete_runs_in_moto_step_functions_THEN_the_derivative_is_gone(
        services):
    key = "raw-image/IMG_0002.heic"
    assert services.run_local(_put(services, key, photo("heic", 6))).status == "SUCCEEDED"
    assert services.s3.head_object(Bucket=BUCKET, Key=_derivative(key))

    services.s3.delete_object(Bucket=BUCKET, Key=key)
    deleted = services.run_moto(event("object_deleted.json", key=key))

    assert deleted["status"] == "SUCCEEDED"
    assert "Contents" not in services.s3.list_objects_v2(Bucket=BUCKET, Prefix=DERIVATIVES_PREFIX)
