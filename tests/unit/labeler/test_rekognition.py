"""The boto3 adapter: same port as the local labeler, AWS errors renamed like local ones."""

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from autotagger import errors
from autotagger.labeler.rekognition import RekognitionLabeler
from autotagger.ports import Labeler


@pytest.fixture
def aws(monkeypatch):
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield


def test_given_image_bytes_when_labelled_on_aws_then_detect_labels_response_without_metadata(aws):
    labeler = RekognitionLabeler(region_name="us-east-1")
    response = labeler.detect_labels(b"\xff\xd8\xff fake jpeg", max_labels=5, min_confidence=50)
    assert isinstance(labeler, Labeler)
    assert "ResponseMetadata" not in response
    assert response["Labels"] and {"Name", "Confidence", "Instances", "Parents"} <= set(response["Labels"][0])
    assert "LabelModelVersion" in response


def test_given_s3_object_when_labelled_on_aws_then_labels(aws):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="image-vaults")
    s3.put_object(Bucket="image-vaults", Key="raw-image/dog.jpg", Body=b"\xff\xd8\xff")
    response = RekognitionLabeler(region_name="us-east-1").detect_labels_s3("image-vaults", "raw-image/dog.jpg")
    assert response["Labels"]


def stubbed(code: str, message: str = "boom") -> RekognitionLabeler:
    client = boto3.client("rekognition", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    stubber.add_client_error("detect_labels", service_error_code=code, service_message=message, http_status_code=400)
    stubber.activate()
    return RekognitionLabeler(client=client)


@pytest.mark.parametrize("code, cls", [
    ("InvalidImageFormatException", errors.InvalidImageFormatException),
    ("ImageTooLargeException", errors.ImageTooLargeException),
    ("InvalidS3ObjectException", errors.InvalidS3ObjectException),
    ("ThrottlingException", errors.ThrottlingException),
])
def test_given_aws_error_when_labelled_then_same_named_autotagger_error(code, cls):
    with pytest.raises(cls) as caught:
        stubbed(code, "bad image").detect_labels(b"x")
    assert caught.value.error_name == f"Rekognition.{code}"
    assert caught.value.message == "bad image"


def test_given_unlisted_aws_error_when_labelled_then_service_error_keeps_the_aws_code():
    with pytest.raises(errors.ServiceError) as caught:
        stubbed("AccessDeniedException").detect_labels(b"x")
    assert caught.value.error_name == "Rekognition.AccessDeniedException"
    assert not caught.value.retryable


def test_given_throttling_when_labelled_then_error_is_retryable():
    with pytest.raises(errors.ServiceError) as caught:
        stubbed("ThrottlingException").detect_labels(b"x")
    assert caught.value.retryable


def test_given_no_aws_region_when_creating_the_labeler_then_user_error_says_how_to_set_it(monkeypatch, tmp_path):
    for key in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # else botocore asks the instance metadata service
    with pytest.raises(errors.UserError, match="AWS_REGION"):
        RekognitionLabeler()
