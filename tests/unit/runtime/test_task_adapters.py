"""The ARN adapters answer like the AWS APIs the workflow names, and fail with their error names."""

from __future__ import annotations

import pytest

from autotagger.errors import InvalidImageFormatException, ServiceError
from autotagger.local.task_adapters import detect_labels_adapter, put_record_adapter, send_message_adapter
from tests.fakes import JPEG_MAGIC, PNG_MAGIC, FakeDeadLetters, FakeLabeler, FakeObjectStore, FakeRecordStream


def _detect_params(name="raw-image/cat.jpg", bucket="image-vaults"):
    return {"Image": {"S3Object": {"Bucket": bucket, "Name": name}}, "MaxLabels": 20, "MinConfidence": 55}


def test_GIVEN_a_stored_object_WHEN_detect_labels_runs_THEN_the_labeler_gets_its_bytes_and_limits():
    labeler = FakeLabeler(jpeg="Cat")
    adapter = detect_labels_adapter(FakeObjectStore.holding({"raw-image/cat.jpg": JPEG_MAGIC + b"jpeg-bytes"}), labeler)

    response = adapter(_detect_params())

    assert labeler.calls == [(JPEG_MAGIC + b"jpeg-bytes", 20, 55.0)]
    assert response["Labels"][0]["Name"] == "Cat"


def test_GIVEN_a_missing_object_WHEN_detect_labels_runs_THEN_it_fails_as_InvalidS3ObjectException():
    adapter = detect_labels_adapter(FakeObjectStore.holding({}), FakeLabeler())

    with pytest.raises(ServiceError) as raised:
        adapter(_detect_params())

    assert raised.value.error_name == "Rekognition.InvalidS3ObjectException"


def test_GIVEN_another_bucket_WHEN_detect_labels_runs_THEN_it_fails_as_InvalidS3ObjectException():
    adapter = detect_labels_adapter(FakeObjectStore.holding({"raw-image/cat.jpg": b"x"}), FakeLabeler())

    with pytest.raises(ServiceError) as raised:
        adapter(_detect_params(bucket="someone-elses"))

    assert raised.value.error_name == "Rekognition.InvalidS3ObjectException"


def test_GIVEN_a_labeler_error_WHEN_detect_labels_runs_THEN_the_rekognition_error_propagates():
    labeler = FakeLabeler(error=InvalidImageFormatException("Request has invalid image format"))
    adapter = detect_labels_adapter(FakeObjectStore.holding({"raw-image/cat.jpg": b"not an image"}), labeler)

    with pytest.raises(ServiceError) as raised:
        adapter(_detect_params())

    assert raised.value.error_name == "Rekognition.InvalidImageFormatException"


def test_GIVEN_a_non_numeric_max_labels_WHEN_detect_labels_runs_THEN_it_fails_as_InvalidParameterException():
    adapter = detect_labels_adapter(FakeObjectStore.holding({"raw-image/cat.jpg": b"x"}), FakeLabeler())

    with pytest.raises(ServiceError) as raised:
        adapter({**_detect_params(), "MaxLabels": "20"})

    assert raised.value.error_name == "Rekognition.InvalidParameterException"


def test_GIVEN_json_text_WHEN_put_record_runs_THEN_the_stream_gets_utf8_bytes_and_the_partition_key():
    stream = FakeRecordStream()
    adapter = put_record_adapter(stream, "records")

    response = adapter({"StreamName": "records", "Data": '{"key": "é"}', "PartitionKey": "abc"})

    assert stream.records == [('{"key": "é"}'.encode(), "abc")]
    assert response == {"SequenceNumber": "1", "ShardId": "shardId-000000000000"}


def test_GIVEN_an_unknown_stream_name_WHEN_put_record_runs_THEN_it_fails_as_Kinesis_ResourceNotFound():
    adapter = put_record_adapter(FakeRecordStream(), "records")

    with pytest.raises(ServiceError) as raised:
        adapter({"StreamName": "other", "Data": "{}", "PartitionKey": "abc"})

    assert raised.value.error_name == "Kinesis.ResourceNotFoundException"


def test_GIVEN_a_message_body_WHEN_send_message_runs_THEN_the_queue_holds_it_and_the_md5_is_answered():
    queue = FakeDeadLetters()
    adapter = send_message_adapter(queue, "https://sqs/q")

    response = adapter({"QueueUrl": "https://sqs/q", "MessageBody": '{"error": "X"}'})

    assert [letter.body for letter in queue.list()] == ['{"error": "X"}']
    assert response == {"MessageId": "m1", "MD5OfMessageBody": "cf64726bdf5c6c1f398f9e62e6421f53"}


def test_GIVEN_two_slots_WHEN_six_threads_call_the_labeler_THEN_at_most_two_calls_run_at_once(
        peak_counting_labeler):
    import threading

    from autotagger.local.task_adapters import BoundedLabeler

    bounded = BoundedLabeler(peak_counting_labeler, 2)
    threads = [threading.Thread(target=bounded.detect_labels, args=(PNG_MAGIC,)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert peak_counting_labeler.peak == 2
