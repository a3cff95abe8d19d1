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


def test_GIVEN_an_indexed_image_WHEN_a_backfill_with_a_new_labeler_runs_on_aws_services_THEN_its_labels_replace_the_old(
        services, deployed_indexer, lambda_context, tmp_path):
    """The AWS side of a re-tag, as far as moto goes: moto cannot load backfill.asl.json (it refuses
    ItemBatcher: tests/parity/test_parity_moto_distributed_map.py), so the local engine runs the file
    with every service moto's: ListObjectsV2 on moto S3 (S3's listing, no sequencer), each object's
    tagging execution started on moto's Step Functions and awaited (`startExecution.sync:2`), its
    record on moto's Kinesis, handed to the deployed indexer handler writing to OpenSearch."""
    from autotagger.contracts import BACKFILL_ASL_FILE, RETAG_SEQUENCER, backfill_substitutions
    from autotagger.domain.documents import document_id
    from autotagger.workflow import StateMachine
    from autotagger.workflow.aws_sdk import START_EXECUTION_SYNC, StartExecutionSyncTask, aws_registry
    from autotagger.workflow.store import ExecutionStore

    handler, index = deployed_indexer
    head = services.s3.head_object(Bucket=event()["detail"]["bucket"]["name"], Key=event()["detail"]["object"]["key"])
    upload = event(etag=head["ETag"].strip('"'), size=head["ContentLength"])
    assert services.run_moto(upload)["status"] == "SUCCEEDED"
    handler(kinesis_event(services, stream_records(services)), lambda_context)
    doc_id = document_id(upload["detail"]["bucket"]["name"], upload["detail"]["object"]["key"])
    before = index.get(doc_id)
    assert before["tags"] == ["Mobile Phone"]  # what moto's Rekognition answers

    services.s3.create_bucket(Bucket="backfill-results")
    backfill = StateMachine.from_file(BACKFILL_ASL_FILE, name="image-backfill", sleeper=lambda s: None,
                                      substitutions=backfill_substitutions(
                                          bucket=upload["detail"]["bucket"]["name"],
                                          tagging_state_machine_arn=services.moto_arn,
                                          results_bucket="backfill-results", region="us-east-1",
                                          account="123456789012", max_concurrency=1))
    registry = aws_registry(backfill.resources, region="us-east-1")
    registry.register(START_EXECUTION_SYNC, StartExecutionSyncTask(lambda service: services.sfn, poll_s=0.02))
    new_model = {"Labels": [{"Name": "Tiger", "Confidence": 93.5}], "LabelModelVersion": "4.0"}
    with mock.patch.object(RekognitionBackend, "detect_labels",
                           return_value=(new_model["Labels"], {}, new_model["LabelModelVersion"])):
        execution = backfill.run({"prefix": "raw-image/", "run": "model4"}, registry, "backfill-model4",
                                 listener=ExecutionStore(str(tmp_path / "executions.db")))
    assert execution.status == "SUCCEEDED", execution.cause
    records = stream_records(services)
    assert [json.loads(r["Data"])["sequencer"] for r in records] == [RETAG_SEQUENCER]  # S3 lists no sequencer

    assert handler(kinesis_event(services, records), lambda_context) == {"batchItemFailures": []}

    after = index.get(doc_id)
    assert (after["tags"], after["label_model_version"]) == (["Tiger"], "4.0")
    assert {k: after[k] for k in ("sequencer", "event_time", "etag")} == {
        k: before[k] for k in ("sequencer", "event_time", "etag")}  # its place among the object's events
    assert index.search(tags=["Mobile Phone"])["total"] == 0 and index.count() == 1
