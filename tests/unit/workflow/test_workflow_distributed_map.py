"""The distributed Map against the Step Functions specification, field by field: ItemReader
(listObjectsV2), ItemSelector, ItemBatcher, MaxConcurrency, ToleratedFailurePercentage/Count,
ResultWriter, the Map Run record and the child executions; and what is still refused at load.

Docs: https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html and the
ItemReader / ItemBatcher / ResultWriter / tolerated-failure pages linked from it."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

import pytest
from workflow_helpers import machine, registry

from autotagger.workflow import DefinitionError
from autotagger.workflow.distributed_map import EXCEED_TOLERATED, ITEM_READER_FAILED, LIST_OBJECTS_V2, PUT_OBJECT
from autotagger.workflow.store import ExecutionStore

NOON = int(datetime(2026, 11, 25, 12, tzinfo=UTC).timestamp())
DISTRIBUTED = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}


def _processor(states: dict | None = None) -> dict:
    return {"ProcessorConfig": DISTRIBUTED, "StartAt": "Work",
            "States": states or {"Work": {"Type": "Task", "Resource": "arn:aws:states:::test:work", "End": True}}}


def _map(**fields) -> dict:
    return {"Run": {"Type": "Map", "ItemProcessor": fields.pop("processor", _processor()), "End": True, **fields}}


class Bucket:
    """A ListObjectsV2 / PutObject stand-in: `keys` listed in pages of `page` keys."""

    def __init__(self, keys, page=1000):
        self.keys = sorted(keys)
        self.page = page
        self.requests: list[dict] = []
        self.written: dict[str, str] = {}

    def list_objects_v2(self, parameters):
        self.requests.append(parameters)
        found = [k for k in self.keys if k.startswith(parameters.get("Prefix", ""))
                 and k > parameters.get("ContinuationToken", "")]
        page = found[: self.page]
        answer = {"IsTruncated": len(found) > self.page,
                  "Contents": [{"Key": k, "ETag": f'"e-{k}"', "LastModified": "2026-11-25T12:00:00.000Z",
                                "Size": len(k), "StorageClass": "STANDARD"} for k in page]}
        if answer["IsTruncated"]:
            answer["NextContinuationToken"] = page[-1]
        return answer

    def put_object(self, parameters):
        self.written[parameters["Key"]] = parameters["Body"]
        return {"ETag": '"x"'}


def _run(states, items_adapter=None, work=lambda p: p, store=None, bucket=None, input=None):
    bucket = bucket or Bucket([])
    reg = registry(work=work)
    reg.register(LIST_OBJECTS_V2, items_adapter or bucket.list_objects_v2)
    reg.register(PUT_OBJECT, bucket.put_object)
    store = store or ExecutionStore(":memory:")
    execution = machine(states).run(input if input is not None else {}, reg, "parent", listener=store)
    return execution, store


def test_GIVEN_an_item_reader_over_a_prefix_WHEN_run_THEN_each_object_is_an_item_shaped_as_step_functions_gives_it():
    bucket = Bucket(["a/1.png", "a/2.png", "a/folder/", "b/3.png"])
    states = _map(ItemReader={"Resource": LIST_OBJECTS_V2, "Parameters": {"Bucket": "images", "Prefix.$": "$.p"}})

    execution, _ = _run(states, bucket=bucket, input={"p": "a/"})

    assert execution.status == "SUCCEEDED", execution.cause
    assert bucket.requests[0] == {"Bucket": "images", "Prefix": "a/"}
    assert execution.output == [
        {"Etag": '"e-a/1.png"', "Key": "a/1.png", "LastModified": NOON, "Size": 7, "StorageClass": "STANDARD"},
        {"Etag": '"e-a/2.png"', "Key": "a/2.png", "LastModified": NOON, "Size": 7, "StorageClass": "STANDARD"},
    ]  # the folder key "a/folder/" is no item; LastModified is epoch seconds, as in Step Functions' items


def test_GIVEN_a_listing_of_several_pages_WHEN_read_THEN_every_page_is_followed_and_max_items_caps_them():
    bucket = Bucket([f"k{i:02}" for i in range(7)], page=3)
    every = _map(ItemReader={"Resource": LIST_OBJECTS_V2, "Parameters": {"Bucket": "b"}})
    capped = _map(ItemReader={"Resource": LIST_OBJECTS_V2, "Parameters": {"Bucket": "b"},
                              "ReaderConfig": {"MaxItems": 4}})

    all_items, _ = _run(every, bucket=bucket)
    four, _ = _run(capped, bucket=Bucket(bucket.keys, page=3))

    assert [i["Key"] for i in all_items.output] == bucket.keys
    assert [r.get("ContinuationToken") for r in bucket.requests] == [None, "k02", "k05"]
    assert [i["Key"] for i in four.output] == ["k00", "k01", "k02", "k03"]


def test_GIVEN_a_reader_that_fails_WHEN_run_THEN_the_state_fails_with_item_reader_failed():
    from autotagger.errors import ServiceError

    def denied(parameters):
        raise ServiceError("Access Denied", service="S3", code="AccessDenied")

    execution, _ = _run(_map(ItemReader={"Resource": LIST_OBJECTS_V2, "Parameters": {"Bucket": "b"}}),
                        items_adapter=denied)

    assert (execution.status, execution.error) == ("FAILED", ITEM_READER_FAILED)
    assert "S3.AccessDenied" in execution.cause


def test_GIVEN_an_item_batcher_WHEN_run_THEN_children_get_items_and_batch_input_by_count():
    states = _map(ItemsPath="$.values", ItemSelector={"v.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"},
                  ItemBatcher={"MaxItemsPerBatch": 2, "BatchInput": {"run.$": "$.run"}})

    execution, store = _run(states, input={"values": ["a", "b", "c"], "run": "r1"})

    assert execution.output == [
        {"Items": [{"v": "a", "i": 0}, {"v": "b", "i": 1}], "BatchInput": {"run": "r1"}},
        {"Items": [{"v": "c", "i": 2}], "BatchInput": {"run": "r1"}},
    ]
    (map_run,) = store.map_runs(execution.arn)
    assert map_run["itemCounts"]["total"] == 3 and map_run["executionCounts"]["total"] == 2


def test_GIVEN_max_input_bytes_per_batch_WHEN_run_THEN_no_batch_is_larger():
    values = ["x" * 40 for _ in range(6)]
    limit = len(json.dumps({"Items": ["x" * 40] * 2}, separators=(",", ":")))
    execution, _ = _run(_map(ItemsPath="$", ItemBatcher={"MaxInputBytesPerBatch": limit}), input=values)

    sizes = [len(json.dumps(batch, separators=(",", ":"))) for batch in execution.output]
    assert [len(batch["Items"]) for batch in execution.output] == [2, 2, 2]
    assert max(sizes) <= limit


def test_GIVEN_batcher_settings_by_path_WHEN_run_THEN_they_are_read_from_the_input():
    states = _map(ItemsPath="$.v", MaxConcurrencyPath="$.c", ItemBatcher={"MaxItemsPerBatchPath": "$.n"})

    execution, store = _run(states, input={"v": [1, 2, 3, 4, 5], "n": 4, "c": 1})

    assert [b["Items"] for b in execution.output] == [[1, 2, 3, 4], [5]]
    assert store.map_runs(execution.arn)[0]["maxConcurrency"] == 1


def test_GIVEN_max_concurrency_WHEN_children_run_THEN_never_more_run_at_once():
    lock, running, peak = threading.Lock(), [0], [0]

    def work(parameters):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1
        return parameters

    execution, _ = _run(_map(ItemsPath="$", MaxConcurrency=3), work=work, input=list(range(12)))

    assert execution.status == "SUCCEEDED" and execution.output == list(range(12))
    assert peak[0] == 3


def _failing(bad):
    from autotagger.errors import ServiceError

    def work(parameters):
        if parameters in bad:
            raise ServiceError("no", service="Test", code="Broken")
        return parameters
    return work


def test_GIVEN_failures_within_the_tolerated_percentage_WHEN_run_THEN_the_map_succeeds_and_counts_them():
    execution, store = _run(_map(ItemsPath="$", ToleratedFailurePercentage=20), work=_failing({3}),
                            input=list(range(10)))

    assert execution.status == "SUCCEEDED"
    counts = store.map_runs(execution.arn)[0]["itemCounts"]
    assert (counts["succeeded"], counts["failed"], counts["total"]) == (9, 1, 10)
    assert execution.output[3] == {"Error": "Test.Broken", "Cause": "no"}


@pytest.mark.parametrize("fields, failed", [({"ToleratedFailurePercentage": 10}, 2), ({"ToleratedFailureCount": 1}, 2),
                                           ({}, 1)])
def test_GIVEN_more_failures_than_tolerated_WHEN_run_THEN_the_state_fails_with_exceed_tolerated_failure_threshold(
        fields, failed):
    execution, store = _run(_map(ItemsPath="$", MaxConcurrency=1, **fields), work=_failing({0, 1}),
                            input=list(range(10)))

    assert (execution.status, execution.error) == ("FAILED", EXCEED_TOLERATED)
    map_run = store.map_runs(execution.arn)[0]
    assert map_run["status"] == "FAILED"
    counts = map_run["itemCounts"]
    # no child starts once the threshold is exceeded: the rest stay pending
    assert counts["failed"] == failed and counts["pending"] == 10 - failed and counts["succeeded"] == 0


def test_GIVEN_a_result_writer_WHEN_run_THEN_manifest_and_result_files_are_written_and_the_output_points_to_them():
    bucket = Bucket([])
    states = _map(ItemsPath="$", MaxConcurrency=1, ToleratedFailureCount=5,
                  ResultWriter={"Resource": PUT_OBJECT, "Parameters": {"Bucket": "results", "Prefix": "runs/"}})

    execution, store = _run(states, work=_failing({2}), bucket=bucket, input=[1, 2, 3])

    map_run_arn = execution.output["MapRunArn"]
    map_run_id = map_run_arn.rsplit(":", 1)[-1]
    manifest_key = f"runs/{map_run_id}/manifest.json"
    assert execution.output == {"MapRunArn": map_run_arn,
                                "ResultWriterDetails": {"Bucket": "results", "Key": manifest_key}}
    manifest = json.loads(bucket.written[manifest_key])
    assert manifest["DestinationBucket"] == "results" and manifest["MapRunArn"] == map_run_arn
    assert [f["Key"] for f in manifest["ResultFiles"]["SUCCEEDED"]] == [f"runs/{map_run_id}/SUCCEEDED_0.json"]
    assert manifest["ResultFiles"]["PENDING"] == []
    succeeded = json.loads(bucket.written[f"runs/{map_run_id}/SUCCEEDED_0.json"])
    failed = json.loads(bucket.written[f"runs/{map_run_id}/FAILED_0.json"])
    assert [json.loads(e["Output"]) for e in succeeded] == [1, 3]
    assert [(e["Input"], e["Status"], e["Error"]) for e in failed] == [("2", "FAILED", "Test.Broken")]
    assert store.map_runs(execution.arn)[0]["itemCounts"]["resultsWritten"] == 3


def test_GIVEN_a_threshold_exceeded_with_a_result_writer_WHEN_run_THEN_unstarted_items_are_in_the_pending_file():
    bucket = Bucket([])
    states = _map(ItemsPath="$", MaxConcurrency=1,
                  ResultWriter={"Resource": PUT_OBJECT, "Parameters": {"Bucket": "results", "Prefix": "p"}})

    execution, _ = _run(states, work=_failing({1}), bucket=bucket, input=[1, 2, 3])

    assert execution.error == EXCEED_TOLERATED
    (pending_key,) = [k for k in bucket.written if k.endswith("PENDING_0.json")]
    assert [e["Input"] for e in json.loads(bucket.written[pending_key])] == ["2", "3"]


def test_GIVEN_a_distributed_map_WHEN_run_THEN_each_child_is_an_execution_of_its_own_linked_to_parent_and_map_run():
    execution, store = _run(_map(ItemsPath="$", Label="Backfill"), input=["a", "b"])

    (map_run,) = store.map_runs(execution.arn)
    children = store.children(map_run["mapRunArn"])
    assert len(children) == 2 and {c["status"] for c in children} == {"SUCCEEDED"}
    assert all(store.parent(c["executionArn"]) == execution.arn for c in children)
    assert all(":execution:test-machine/Backfill:" in c["executionArn"] for c in children)
    assert ":mapRun:test-machine/Backfill:" in map_run["mapRunArn"]
    child = store.get(children[0]["executionArn"])
    assert [e["type"] for e in child["history"]][0] == "ExecutionStarted"
    assert [e["type"] for e in child["history"]][-1] == "ExecutionSucceeded"
    parent_events = [e["type"] for e in store.get(execution.arn)["history"]]
    assert parent_events[2:6] == ["MapStateStarted", "MapRunStarted", "MapRunSucceeded", "MapStateSucceeded"]


@pytest.mark.parametrize("state, field", [
    ({"ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "Parameters": {"Bucket": "b", "Key": "k"}}},
     "ItemReader.Resource"),
    ({"ItemReader": {"Resource": LIST_OBJECTS_V2, "ReaderConfig": {"InputType": "MANIFEST"}}},
     "ItemReader.ReaderConfig.InputType"),
    ({"ResultWriter": {"Resource": PUT_OBJECT, "Parameters": {"Bucket": "b"}, "WriterConfig": {}}},
     "ResultWriter.WriterConfig"),
    ({"ItemBatcher": {"BatchInput": {}}}, "ItemBatcher"),
    ({"ToleratedFailurePercentage": 101}, "ToleratedFailurePercentage"),
    ({"Label": "a label"}, "Label"),
    ({"MaxConcurrency": 2, "MaxConcurrencyPath": "$.c"}, "MaxConcurrency and MaxConcurrencyPath"),
])
def test_GIVEN_a_distributed_map_field_the_engine_cannot_run_WHEN_loaded_THEN_it_is_refused_naming_state_and_field(
        state, field):
    with pytest.raises(DefinitionError, match=rf"state 'Run'.*{field}"):
        machine(_map(**state))


def test_GIVEN_a_distributed_only_field_on_an_inline_map_WHEN_loaded_THEN_it_is_refused():
    inline = {"StartAt": "W", "States": {"W": {"Type": "Pass", "End": True}}}
    with pytest.raises(DefinitionError, match="state 'Run' field ItemBatcher: only a distributed Map"):
        machine(_map(processor=inline, ItemBatcher={"MaxItemsPerBatch": 2}))
