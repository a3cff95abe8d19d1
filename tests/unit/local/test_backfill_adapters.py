"""The local adapters behind the backfill's resource ARNs: ListObjectsV2 over the local bucket,
PutObject into the results bucket, and startExecution.sync:2 running the tagging workflow."""

from __future__ import annotations

import pytest

from autotagger.errors import ServiceError
from autotagger.local.backfill import list_objects_adapter, put_object_adapter, start_execution_sync_adapter
from autotagger.local.bucket import LocalBucket
from autotagger.workflow import StateMachine, TaskRegistry
from autotagger.workflow.store import ExecutionStore


@pytest.fixture
def bucket(tmp_path):
    with LocalBucket(tmp_path / "b", "images") as b:
        yield b


def test_GIVEN_more_keys_than_a_page_WHEN_listed_THEN_pages_follow_the_continuation_token_in_key_order(bucket):
    for key in ["a/3", "a/1", "a/2", "b/1"]:
        bucket.put(key, key.encode())
    list_objects = list_objects_adapter(bucket)

    first = list_objects({"Bucket": "images", "Prefix": "a/", "MaxKeys": 2})
    second = list_objects({"Bucket": "images", "Prefix": "a/", "MaxKeys": 2,
                           "ContinuationToken": first["NextContinuationToken"]})

    assert [o["Key"] for o in first["Contents"]] == ["a/1", "a/2"] and first["IsTruncated"]
    assert [o["Key"] for o in second["Contents"]] == ["a/3"] and not second["IsTruncated"]
    head = bucket.head("a/1")
    # S3's fields only: no sequencer, though the local bucket keeps one (the backfill's records are re-tags)
    assert first["Contents"][0] == {"Key": "a/1", "ETag": f'"{head.etag}"', "LastModified": head.last_modified,
                                         "Size": 3, "StorageClass": "STANDARD"}


def test_GIVEN_another_bucket_name_WHEN_listed_or_written_THEN_no_such_bucket(bucket):
    with pytest.raises(ServiceError) as listing:
        list_objects_adapter(bucket)({"Bucket": "other"})
    with pytest.raises(ServiceError) as writing:
        put_object_adapter(bucket)({"Bucket": "other", "Key": "k", "Body": "{}"})
    assert listing.value.error_name == writing.value.error_name == "S3.NoSuchBucket"


def test_GIVEN_a_result_WHEN_put_THEN_it_is_stored_as_json(bucket):
    put_object_adapter(bucket)({"Bucket": "images", "Key": "r/manifest.json", "Body": '{"a": 1}'})
    assert bucket.get("r/manifest.json") == b'{"a": 1}' and bucket.head("r/manifest.json").content_type == (
        "application/json")


CHILD = {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}}
FAILING = {"StartAt": "No", "States": {"No": {"Type": "Fail", "Error": "Autotagger.Broken", "Cause": "why"}}}


def _sync(definition, store):
    machine = StateMachine(definition, name="image-tagging")
    return machine, start_execution_sync_adapter(machine, TaskRegistry(), store)


def test_GIVEN_a_new_name_WHEN_started_with_sync_THEN_the_child_runs_with_its_parent_and_answers_its_output():
    store = ExecutionStore(":memory:")
    machine, start = _sync(CHILD, store)
    parent = "arn:aws:states:local:000000000000:execution:image-backfill/Backfill:1"

    answer = start({"StateMachineArn": machine.arn, "Name": "run-1",
                    "Input": {"k": 1, "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": parent}})

    assert answer["Status"] == "SUCCEEDED" and answer["Output"]["k"] == 1 and answer["Name"] == "run-1"
    assert store.parent(answer["ExecutionArn"]) == parent


def test_GIVEN_a_name_already_run_WHEN_started_again_THEN_execution_already_exists_and_nothing_runs():
    store = ExecutionStore(":memory:")
    machine, start = _sync(CHILD, store)
    start({"StateMachineArn": machine.arn, "Name": "run-1", "Input": {}})

    with pytest.raises(ServiceError) as again:
        start({"StateMachineArn": machine.arn, "Name": "run-1", "Input": {}})

    assert again.value.error_name == "StepFunctions.ExecutionAlreadyExists"
    assert len(store.list()) == 1


def test_GIVEN_a_name_a_crash_left_aborted_WHEN_started_again_THEN_it_runs_as_the_next_attempt():
    from datetime import UTC, datetime

    from autotagger.workflow.history import Execution
    from autotagger.workflow.interpreter import LOCAL_ROLE, begin_execution

    store = ExecutionStore(":memory:")
    machine, start = _sync(CHILD, store)
    arn = machine.arn.replace(":stateMachine:", ":execution:") + ":run-1"
    crashed = Execution(arn=arn, name="run-1", state_machine_arn=machine.arn, input={}, start_date=datetime.now(UTC))
    begin_execution(crashed, store, lambda: datetime.now(UTC), "{}", LOCAL_ROLE)  # started, then the process died
    assert store.mark_aborted(arn, "the local runtime stopped")  # what recovery does on the next start

    again = start({"StateMachineArn": machine.arn, "Name": "run-1", "Input": {}})

    assert again["Name"] == "run-1-r1" and again["Status"] == "SUCCEEDED"


def test_GIVEN_a_child_that_fails_WHEN_started_with_sync_THEN_the_task_fails_with_states_task_failed():
    machine, start = _sync(FAILING, ExecutionStore(":memory:"))

    with pytest.raises(ServiceError) as failed:
        start({"StateMachineArn": machine.arn, "Name": "run-1", "Input": {}})

    assert failed.value.error_name == "States.TaskFailed"
    assert '"Error": "Autotagger.Broken"' in failed.value.message and '"Status": "FAILED"' in failed.value.message


def test_GIVEN_another_state_machine_WHEN_started_THEN_state_machine_does_not_exist():
    machine, start = _sync(CHILD, ExecutionStore(":memory:"))
    with pytest.raises(ServiceError) as missing:
        start({"StateMachineArn": machine.arn + "-other", "Name": "n", "Input": {}})
    assert missing.value.error_name == "StepFunctions.StateMachineDoesNotExist"
