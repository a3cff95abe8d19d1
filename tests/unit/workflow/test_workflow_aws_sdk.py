"""aws-sdk adapters against moto (in-process, no network): calls and Step Functions error names."""

from __future__ import annotations

import pytest
from moto import mock_aws

from autotagger.errors import ServiceError
from autotagger.workflow.aws_sdk import AwsSdkTask, aws_registry


@pytest.fixture
def aws(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        import boto3

        yield boto3.session.Session(region_name="us-east-1")


def test_GIVEN_an_aws_sdk_ARN_WHEN_called_THEN_the_camelCase_action_runs_as_the_boto3_method(aws):
    aws.client("kinesis").create_stream(StreamName="s", ShardCount=1)
    registry = aws_registry(["arn:aws:states:::aws-sdk:kinesis:putRecord"], region="us-east-1")
    result = registry.get("arn:aws:states:::aws-sdk:kinesis:putRecord")({"StreamName": "s", "PartitionKey": "k", "Data": '{"a":1}'})
    assert set(result) >= {"SequenceNumber", "ShardId"} and "ResponseMetadata" not in result


def test_GIVEN_a_service_error_WHEN_called_THEN_it_is_named_Service_dot_Code_with_Exception_appended(aws):
    aws.client("s3").create_bucket(Bucket="bucket-one")
    task = aws_registry(["arn:aws:states:::aws-sdk:s3:getObject"], region="us-east-1").get("arn:aws:states:::aws-sdk:s3:getObject")
    with pytest.raises(ServiceError) as info:
        task({"Bucket": "bucket-one", "Key": "missing"})
    assert info.value.error_name == "S3.NoSuchKeyException" and "Status Code: 404" in info.value.message


def test_GIVEN_a_missing_stream_WHEN_putRecord_is_called_THEN_the_error_is_Kinesis_ResourceNotFoundException(aws):
    task = aws_registry(["arn:aws:states:::aws-sdk:kinesis:putRecord"], region="us-east-1").get("arn:aws:states:::aws-sdk:kinesis:putRecord")
    with pytest.raises(ServiceError) as info:
        task({"StreamName": "nope", "PartitionKey": "k", "Data": "x"})
    assert info.value.error_name == "Kinesis.ResourceNotFoundException"


def test_GIVEN_invalid_parameters_WHEN_called_THEN_the_error_is_SdkClientException(aws):
    task = aws_registry(["arn:aws:states:::aws-sdk:kinesis:putRecord"], region="us-east-1").get("arn:aws:states:::aws-sdk:kinesis:putRecord")
    with pytest.raises(ServiceError) as info:
        task({"Nonsense": 1})
    assert info.value.error_name == "Kinesis.SdkClientException"


def test_GIVEN_the_optimized_sqs_integration_WHEN_a_JSON_body_is_sent_THEN_the_message_holds_its_JSON_text(aws):
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    send = aws_registry(["arn:aws:states:::sqs:sendMessage"], region="us-east-1").get("arn:aws:states:::sqs:sendMessage")
    result = send({"QueueUrl": url, "MessageBody": {"a": 1}})
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == '{"a":1}' and set(result) >= {"MessageId", "MD5OfMessageBody"}


def test_GIVEN_a_missing_queue_WHEN_sendMessage_is_called_THEN_the_error_is_SQS_AmazonSQSException(aws):
    send = aws_registry(["arn:aws:states:::sqs:sendMessage"], region="us-east-1").get("arn:aws:states:::sqs:sendMessage")
    with pytest.raises(ServiceError) as info:
        send({"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/nope", "MessageBody": "x"})
    assert info.value.error_name == "SQS.AmazonSQSException"


def test_GIVEN_a_callback_suffix_WHEN_an_aws_sdk_adapter_is_made_THEN_it_is_refused():
    with pytest.raises(ValueError, match="waitForTaskToken"):
        AwsSdkTask("arn:aws:states:::aws-sdk:s3:getObject.waitForTaskToken", lambda service: None)


def test_GIVEN_the_DynamoDB_service_WHEN_an_error_is_named_THEN_the_prefix_is_DynamoDb_as_Step_Functions_writes_it(aws):
    task = aws_registry(["arn:aws:states:::aws-sdk:dynamodb:getItem"], region="us-east-1").get("arn:aws:states:::aws-sdk:dynamodb:getItem")
    with pytest.raises(ServiceError) as info:
        task({"TableName": "missing", "Key": {"id": {"S": "1"}}})
    assert info.value.error_name == "DynamoDb.ResourceNotFoundException"
