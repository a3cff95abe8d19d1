"""`autotagger reprocess` runs the backfill (statemachine/backfill.asl.json) on the local pipeline:
every object re-tagged through the tagging workflow as a child execution, failures as dead letters
with their reason, a Map Run with item counts and results in the results bucket, and a re-run that
skips what this run already tagged."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from autotagger.contracts import RETAG_SEQUENCER
from autotagger.domain.documents import document_id
from autotagger.reprocess import backfill_local
from tests.fakes import fake_analysers

from .fast_labeler import small_png
from .test_reprocess import BUCKET, KEYS, new_model_labeler, stored  # noqa: F401 - `stored` is a fixture

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.fixture
def new_model(tmp_path, sleeper):
    from autotagger.config import Settings
    from autotagger.local.runtime import Pipeline

    labeler = new_model_labeler()
    with Pipeline(Settings(data_dir=tmp_path / "data", workers=2), labeler=labeler, sleeper=sleeper,
                  **fake_analysers()) as p:
        p.labeler_calls = lambda: labeler.calls
        yield p


def _tags(pipeline, key):
    return pipeline.index.get(document_id(BUCKET, key))["tags"]


def test_GIVEN_a_model_change_WHEN_backfilling_a_prefix_THEN_its_images_carry_the_new_labels_and_no_other(
        stored, new_model):
    summary = backfill_local(new_model, prefix="photos/", run="model2")
    assert new_model.wait_idle(30)

    assert (summary.status, summary.succeeded, summary.failed) == ("SUCCEEDED", 5, 0)
    assert all("Tiger" in _tags(new_model, key) for key in KEYS)
    assert "Tiger" not in _tags(new_model, "other/elsewhere.png")


def test_GIVEN_indexed_images_WHEN_backfilled_with_a_new_labeler_THEN_each_document_is_relabelled_in_its_place(
        stored, new_model):
    """Locally as on AWS: the listing has no sequencer, so each record is a re-tag, and the indexer
    replaces the labels of the document of the same ETag, which keeps its sequencer and upload time."""
    before = {key: new_model.index.get(document_id(BUCKET, key)) for key in KEYS}

    backfill_local(new_model, prefix="photos/", run="model2")
    assert new_model.wait_idle(30)

    tagging = [json.loads(e["input"]) for e in new_model.stores.executions.list(limit=1000)
               if ":execution:image-tagging:model2-" in e["executionArn"]]
    assert {e["detail"]["object"]["sequencer"] for e in tagging} == {RETAG_SEQUENCER} and len(tagging) == len(KEYS)
    for key in KEYS:
        after = new_model.index.get(document_id(BUCKET, key))
        assert "Tiger" in after["tags"] and after["label_model_version"] == "fast-2"
        assert {k: after[k] for k in ("sequencer", "event_time", "etag")} == {
            k: before[key][k] for k in ("sequencer", "event_time", "etag")}


def test_GIVEN_an_image_deleted_after_the_listing_WHEN_its_retag_record_arrives_THEN_it_stays_deleted(
        stored, new_model):
    """The window a backfill cannot close: the object is listed and re-tagged, then deleted, and the
    delete's record is indexed before the re-tag's. The re-tag loses to the tombstone."""
    from autotagger.domain.documents import action_from_record, parse_record

    key = KEYS[0]
    document = new_model.index.get(document_id(BUCKET, key))
    new_model.delete(key)
    assert new_model.wait_idle(30) and new_model.index.get(document_id(BUCKET, key)) is None

    retag = {"action": "upsert", "bucket": BUCKET, "key": key, "size": document["size"], "etag": document["etag"],
             "sequencer": RETAG_SEQUENCER, "event_time": "2026-11-27T09:00:00Z",
             "labels": [{"Name": "Tiger", "Confidence": 90.0}]}
    assert [r["status"] for r in new_model.index.apply([action_from_record(parse_record(retag), NOW)])] == ["stale"]
    assert new_model.index.get(document_id(BUCKET, key)) is None


def test_GIVEN_a_finished_backfill_WHEN_run_again_THEN_no_object_is_tagged_twice(stored, new_model):
    backfill_local(new_model, prefix="photos/", run="model2")
    calls = new_model.labeler_calls()

    again = backfill_local(new_model, prefix="photos/", run="model2")

    assert new_model.labeler_calls() == calls
    assert (again.status, again.succeeded, again.failed) == ("SUCCEEDED", 5, 0)
    tagging = [e for e in new_model.stores.executions.list(limit=1000) if ":execution:image-tagging:model2-" in
               e["executionArn"]]
    assert len(tagging) == 5


def test_GIVEN_objects_that_are_no_images_WHEN_backfilling_THEN_each_is_a_dead_letter_with_its_reason(
        make_pipeline, tmp_path):
    pipeline = make_pipeline()
    for i in range(30):
        pipeline.stores.bucket.put(f"in/{i:02}.png", small_png(i))
    pipeline.stores.bucket.put("in/broken.png", b"not an image")

    summary = backfill_local(pipeline, prefix="in/", run="r1")
    assert pipeline.wait_idle(30)

    letters = [json.loads(m.body) for m in pipeline.stores.workflow_dlq.list(limit=100)]
    assert [(d["event"]["detail"]["object"]["key"], d["error"]) for d in letters] == [
        ("in/broken.png", "UnsupportedImageFormat")]  # Rekognition refused it; Normalize read its bytes
    # Keys are listed in order, so the broken one is alone in the last batch of ten: 1 of 31 failed is within
    # the 5 % tolerated, and the Map Run names the batch execution that failed.
    assert (summary.status, summary.succeeded, summary.failed) == ("SUCCEEDED", 30, 1)
    (failed_batch,) = summary.map_run["failedExecutions"]
    batch = pipeline.stores.executions.get(failed_batch)
    assert batch["error"] == "Autotagger.BackfillObjectsFailed" and "in/broken.png" in batch["cause"]
    assert pipeline.index.get(document_id(BUCKET, "in/29.png")) is not None


def test_GIVEN_more_failures_than_tolerated_WHEN_backfilling_THEN_the_backfill_fails_and_unstarted_batches_stay_pending(
        make_pipeline):
    pipeline = make_pipeline()
    for i in range(40):
        pipeline.stores.bucket.put(f"in/{i:02}.png", small_png(i) if i % 10 else b"not an image")

    summary = backfill_local(pipeline, prefix="in/", run="r1")

    assert (summary.status, summary.error) == ("FAILED", "States.ExceedToleratedFailureThreshold")
    counts = summary.map_run["itemCounts"]
    assert counts["failed"] >= 10 and counts["failed"] + counts["succeeded"] + counts["pending"] == 40
    letters = [json.loads(m.body)["event"]["detail"]["object"]["key"] for m in pipeline.stores.workflow_dlq.list()]
    started_batches = (counts["failed"] + counts["succeeded"]) // 10
    assert len(letters) == started_batches  # every started broken object is a dead letter


def test_GIVEN_a_backfill_WHEN_it_ends_THEN_its_results_are_in_the_results_bucket_and_its_map_run_is_recorded(
        stored, new_model):
    summary = backfill_local(new_model, prefix="photos/", run="model2")

    execution = new_model.stores.executions.get(
        new_model.stores.execution_arn(summary.execution).replace("image-tagging", "image-backfill"))
    output = json.loads(execution["output"])
    manifest = json.loads(new_model.stores.backfill_results.get(output["ResultWriterDetails"]["Key"]))
    assert manifest["MapRunArn"] == summary.map_run["mapRunArn"] == output["MapRunArn"]
    (succeeded,) = manifest["ResultFiles"]["SUCCEEDED"]
    results = json.loads(new_model.stores.backfill_results.get(succeeded["Key"]))
    tagged = [o for r in results for o in json.loads(r["Output"])["objects"]]
    assert sorted(o["key"] for o in tagged) == KEYS and {o["status"] for o in tagged} == {"SUCCEEDED"}
    children = new_model.stores.executions.children(summary.map_run["mapRunArn"])
    assert len(children) == 1  # five objects fit one batch of ten


def test_GIVEN_the_cli_WHEN_reprocessing_with_json_THEN_it_prints_the_execution_and_item_counts(
        stored, tmp_path, monkeypatch, capsys):
    import autotagger.labeler as labeler_module
    from autotagger.cli import main

    monkeypatch.setattr(labeler_module, "get_labeler", lambda *a, **k: new_model_labeler())

    code = main(["reprocess", "--data-dir", str(tmp_path / "data"), "--prefix", "photos/", "--json"])

    printed = json.loads(capsys.readouterr().out)
    assert code == 0
    assert printed["execution"].startswith("backfill-") and printed["items"] == {"succeeded": 5, "failed": 0}


def test_GIVEN_a_backfill_with_a_failed_object_WHEN_its_execution_is_viewed_THEN_the_map_run_links_the_failed_child(
        make_pipeline):
    from fastapi.testclient import TestClient

    from autotagger.server import create_app

    pipeline = make_pipeline()
    for i in range(3):
        pipeline.stores.bucket.put(f"in/{i}.png", small_png(i))
    pipeline.stores.bucket.put("in/broken.png", b"not an image")
    summary = backfill_local(pipeline, prefix="in/", run="r1")
    backfill_arn = summary.map_run["executionArn"]

    with TestClient(create_app(pipeline)) as client:
        view = client.get(f"/v1/executions/{backfill_arn.rsplit(':', 1)[-1]}").json()
        run = view["map_run"]
        (failed,) = run["failed_executions"]
        child = client.get(f"/v1/executions/{failed['name']}").json()  # its ARN has a "/" in it

    # four objects, one batch: the broken one fails the batch, which fails the backfill (over 5 %)
    assert run["items"] == {"total": 4, "succeeded": 0, "failed": 4, "running": 0, "pending": 0, "aborted": 0,
                                 "timed_out": 0}
    assert run["arn"] == summary.map_run["mapRunArn"] and view["status"] == "FAILED"
    assert child["status"] == "FAILED" and child["error"] == "Autotagger.BackfillObjectsFailed"
    assert child["parent_arn"] == backfill_arn and "in/broken.png" in child["cause"]


def test_GIVEN_a_deployed_backfill_WHEN_reprocessing_on_aws_THEN_its_map_run_is_followed_to_the_summary(monkeypatch):
    """`reprocess --aws` against moto's Step Functions: moto cannot load backfill.asl.json (it refuses
    ItemBatcher, tests/parity/test_parity_moto_distributed_map.py), so a Distributed Map moto runs stands in
    for it; what is checked is the client side: start, ListMapRuns/DescribeMapRun, the summary."""
    import boto3
    from moto import mock_aws

    from autotagger.reprocess import backfill_aws

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    distributed = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    fail_odd = {"ProcessorConfig": distributed, "StartAt": "Odd", "States": {
        "Odd": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 1, "Next": "Broken"}],
                "Default": "Tagged"},
        "Broken": {"Type": "Fail", "Error": "Autotagger.BackfillObjectsFailed", "Cause": "one"},
        "Tagged": {"Type": "Succeed"}}}
    stand_in = {"StartAt": "List", "States": {
        "List": {"Type": "Pass", "Result": [0, 1, 2, 3], "ResultPath": "$.items", "Next": "TagEveryObject"},
        "TagEveryObject": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": fail_odd, "End": True}}}
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        sfn = boto3.client("stepfunctions")
        role = "arn:aws:iam::123456789012:role/backfill"
        tagging = sfn.create_state_machine(name="image-tagging", roleArn=role, definition=json.dumps(
            {"StartAt": "T", "States": {"T": {"Type": "Succeed"}}}))["stateMachineArn"]
        backfill = sfn.create_state_machine(name="image-backfill", roleArn=role,
                                            definition=json.dumps(stand_in))["stateMachineArn"]
        seen = []

        summary = backfill_aws(_MotoStartedRuns(sfn), state_machine_arn=backfill, tagging_state_machine_arn=tagging,
                               prefix="p/", progress=seen.append, poll_s=0.05)

        (execution,) = sfn.list_executions(stateMachineArn=backfill)["executions"]
        started_with = json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])
    assert summary.execution == execution["name"] and summary.execution.startswith("backfill-")
    assert started_with["prefix"] == "p/" and len(started_with["run"]) == 12
    assert (summary.succeeded, summary.failed) == (3, 1) and seen and seen[-1]["itemCounts"]["total"] == 4
    assert summary.as_json() == {"execution": summary.execution, "items": {"succeeded": 3, "failed": 1}}


class _MotoStartedRuns:
    """moto's Step Functions, but ListMapRuns waits for moto's execution thread: until that thread
    has started, moto raises AttributeError ('NoneType' ... 'map_run_record_pool_manager') instead of
    answering (a race inside moto; Step Functions answers an empty list)."""

    def __init__(self, sfn):
        self._sfn = sfn

    def __getattr__(self, name):
        return getattr(self._sfn, name)

    def list_map_runs(self, **kwargs):
        deadline = time.monotonic() + 10
        while True:
            try:
                return self._sfn.list_map_runs(**kwargs)
            except AttributeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
