"""The full AWS-shaped path minus the managed services.

moto's Step Functions interpreter runs the ASL file with moto S3, Rekognition, Kinesis and SQS;
the record it puts on moto's Kinesis is handed, as the Kinesis event Lambda would deliver, to the
real indexer handler (functions/indexer/handler.py) configured like the deployed Lambda
(OPENSEARCH_ENDPOINT, INDEX_NAME) against an OpenSearch-API server (osmem-server) on loopback.
"""

from __future__ import annotations

import base64
import json
from unittest import mock

import pytest
from moto.core.exceptions import JsonRESTError
from moto.rekognition.models import RekognitionBackend

from autotagger.index import open_index
from tests.parity.test_parity_moto import STREAM, event, services  # noqa: F401 - `services` is a fixture

pytestmark = pytest.mark.integration


def kinesis_event(services, raw_records: list[dict]) -> dict:
    """What the Kinesis event source mapping hands the function for these records."""
    stream_arn = services.kinesis.describe_stream(StreamName=STREAM)["StreamDescription"]["StreamARN"]
    return {"Records": [{
        "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": r["PartitionKey"],
                    "sequenceNumber": r["SequenceNumber"], "data": base64.b64encode(r["Data"]).decode(),
                    "approximateArrivalTimestamp": r["ApproximateArrivalTimestamp"].timestamp()},
        "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": f"shardId-000000000000:{r['SequenceNumber']}",
        "eventName": "aws:kinesis:record", "awsRegion": "us-east-1", "eventSourceARN": stream_arn,
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/autotagger-indexer"} for r in raw_records]}


def stream_records(services) -> list[dict]:
    answer = services.kinesis.get_records(ShardIterator=services._iterator)
    services._iterator = answer["NextShardIterator"]
    return answer["Records"]


@pytest.fixture
def deployed_indexer(osmem_server, monkeypatch):
    """The handler as the stack configures it: the index comes from the environment (a handler of
    its own, as a fresh Lambda process would build, since `handler.handler` keeps its first index)."""
    with osmem_server.clone() as opensearch:
        monkeypatch.setenv("OPENSEARCH_ENDPOINT", opensearch.url)
        monkeypatch.setenv("INDEX_NAME", "image_insights")
        monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
        monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "autotagger")
        from autotagger.stream_indexer import make_handler
        from functions.indexer.handler import index_from_environment

        yield make_handler(index_from_environment), open_index(opensearch.url, index_name="image_insights")


def test_GIVEN_an_upload_run_by_moto_WHEN_its_stream_record_reaches_the_indexer_THEN_the_image_is_searchable_by_its_label(
        services, deployed_indexer, lambda_context):
    handler, index = deployed_indexer
    execution = services.run_moto(event())
    assert execution["status"] == "SUCCEEDED"
    records = stream_records(services)
    assert len(records) == 1

    response = handler(kinesis_event(services, records), lambda_context)

    assert response == {"batchItemFailures": []}
    label = json.loads(records[0]["Data"])["labels"][0]["Name"]
    found = index.search(tags=[label])
    assert [image["key"] for image in found["images"]] == [event()["detail"]["object"]["key"]]


def test_GIVEN_an_indexed_image_WHEN_moto_runs_its_delete_event_THEN_the_indexer_removes_it(
        services, deployed_indexer, lambda_context):
    handler, index = deployed_indexer
    services.run_moto(event())
    handler(kinesis_event(services, stream_records(services)), lambda_context)
    assert index.search()["total"] == 1

    deleted = services.run_moto(event("object_deleted.json", sequencer="FFFFFFFFFFFFFFFFFF"))
    assert deleted["status"] == "SUCCEEDED"
    response = handler(kinesis_event(services, stream_records(services)), lambda_context)

    assert response == {"batchItemFailures": []}
    assert index.search()["total"] == 0


def test_GIVEN_a_permanent_rekognition_failure_under_moto_WHEN_the_execution_ends_THEN_it_fails_with_a_dead_letter_and_nothing_is_indexed(
        services, deployed_indexer):
    _, index = deployed_indexer
    refuse = JsonRESTError("InvalidImageFormatException", "Request has invalid image format")
    with mock.patch.object(RekognitionBackend, "detect_labels", side_effect=refuse):
        execution = services.run_moto(event())

    assert execution["status"] == "FAILED"
    assert stream_records(services) == []
    [letter] = services.dead_letters()
    assert letter["error"].endswith("InvalidImageFormatException") and letter["event"] == event()
    assert index.search()["total"] == 0
