"""The distributed Map on moto 5 and on the local engine, where moto can run one.

What moto 5 (its Step Functions engine, `execute_state_machine`) does with a distributed Map, found
by running it (the checks below keep it so, and fail when moto changes):

* runs child workflows over `ItemsPath`, with `MaxConcurrencyPath`, and answers ListMapRuns and
  DescribeMapRun (item counts by status);
* ResultWriter: writes `<Prefix>/<map run id>/manifest.json` and answers with
  `{"MapRunArn", "ResultWriterDetails"}`, but its ResultFiles stay empty (no SUCCEEDED/FAILED files);
* refuses at CreateStateMachine a definition with `ItemBatcher` or a literal
  `ToleratedFailurePercentage` (ASLParserException), so it cannot load statemachine/backfill.asl.json;
* ignores `ToleratedFailureCount`/`...Path` ("no effect on the program evaluation"): a Map whose
  children all fail still succeeds;
* its `arn:aws:states:::s3:listObjectsV2` ItemReader fails (it cannot serialize S3's LastModified).

So the parity checked here is the part moto runs; ItemReader, ItemBatcher and tolerated failures are
checked against the specification in tests/unit/workflow/test_workflow_distributed_map.py.
"""

from __future__ import annotations

import json
import time

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from autotagger.workflow import StateMachine
from autotagger.workflow.aws_sdk import aws_registry
from autotagger.workflow.store import ExecutionStore

DISTRIBUTED = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
PASS = {"ProcessorConfig": DISTRIBUTED, "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
FAIL = {"ProcessorConfig": DISTRIBUTED, "StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "c"}}}


def _definition(**fields) -> dict:
    return {"StartAt": "M", "States": {"M": {"Type": "Map", "End": True, "ItemProcessor": PASS, **fields}}}


@pytest.fixture
def aws(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="results")
        yield {"s3": s3, "sfn": boto3.client("stepfunctions")}


def _run_moto(sfn, definition: dict, value: dict, name: str = "m") -> tuple[dict, str]:
    arn = sfn.create_state_machine(name=name, definition=json.dumps(definition),
                                   roleArn="arn:aws:iam::123456789012:role/backfill")["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(value))["executionArn"]
    deadline = time.monotonic() + 60
    while True:
        described = sfn.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described, execution
        time.sleep(0.05)


def _run_local(definition: dict, value: dict):
    machine = StateMachine(definition, name="m")
    store = ExecutionStore(":memory:")
    execution = machine.run(value, aws_registry(machine.resources, region="us-east-1"), "local", listener=store)
    return execution, store


def test_GIVEN_items_and_max_concurrency_path_WHEN_run_by_moto_and_locally_THEN_both_give_each_childs_output(aws):
    definition = _definition(ItemsPath="$.items", MaxConcurrencyPath="$.concurrency")
    value = {"items": [{"k": 1}, {"k": 2}, {"k": 3}], "concurrency": 2}

    moto, _ = _run_moto(aws["sfn"], definition, value)
    local, _ = _run_local(definition, value)

    assert moto["status"] == local.status == "SUCCEEDED"
    assert json.loads(moto["output"]) == local.output == value["items"]


def test_GIVEN_a_result_writer_WHEN_run_by_moto_and_locally_THEN_both_write_a_manifest_where_the_output_says(aws):
    definition = _definition(ItemsPath="$", ResultWriter={"Resource": "arn:aws:states:::s3:putObject",
                                                          "Parameters": {"Bucket": "results", "Prefix": "runs"}})
    moto, _ = _run_moto(aws["sfn"], definition, [1, 2])
    local, _ = _run_local(definition, [1, 2])
    outputs = {"moto": json.loads(moto["output"]), "local": local.output}

    for output in outputs.values():
        assert set(output) == {"MapRunArn", "ResultWriterDetails"}
        details = output["ResultWriterDetails"]
        map_run_id = output["MapRunArn"].rsplit(":", 1)[-1]
        assert details == {"Bucket": "results", "Key": f"runs/{map_run_id}/manifest.json"}
        manifest = json.loads(aws["s3"].get_object(Bucket="results", Key=details["Key"])["Body"].read())
        assert manifest["DestinationBucket"] == "results" and manifest["MapRunArn"] == output["MapRunArn"]
        assert set(manifest["ResultFiles"]) == {"FAILED", "PENDING", "SUCCEEDED"}
    local_manifest = json.loads(aws["s3"].get_object(
        Bucket="results", Key=outputs["local"]["ResultWriterDetails"]["Key"])["Body"].read())
    (succeeded,) = local_manifest["ResultFiles"]["SUCCEEDED"]  # moto writes no result files (see above)
    entries = json.loads(aws["s3"].get_object(Bucket="results", Key=succeeded["Key"])["Body"].read())
    assert sorted(e["Output"] for e in entries) == ["1", "2"]


def test_GIVEN_children_that_fail_WHEN_run_by_moto_and_locally_THEN_both_map_runs_count_the_items_as_failed(aws):
    definition = {"StartAt": "M", "States": {"M": {"Type": "Map", "End": True, "ItemProcessor": FAIL,
                                                   "ItemsPath": "$.v", "ToleratedFailureCountPath": "$.t"}}}
    value = {"v": [1, 2], "t": 2}

    moto, moto_execution = _run_moto(aws["sfn"], definition, value)
    local, store = _run_local(definition, value)

    (moto_run,) = aws["sfn"].list_map_runs(executionArn=moto_execution)["mapRuns"]
    moto_counts = aws["sfn"].describe_map_run(mapRunArn=moto_run["mapRunArn"])["itemCounts"]
    local_counts = store.map_runs(local.arn)[0]["itemCounts"]
    assert moto["status"] == local.status == "SUCCEEDED"  # two failures are within the two tolerated
    for counts in (moto_counts, local_counts):
        assert (counts["total"], counts["failed"], counts["succeeded"]) == (2, 2, 0)


@pytest.mark.parametrize("fields", [{"ItemBatcher": {"MaxItemsPerBatch": 2}}, {"ToleratedFailurePercentage": 10}])
def test_GIVEN_fields_moto_cannot_parse_WHEN_created_on_moto_THEN_it_refuses_them_and_the_local_engine_runs_them(
        aws, fields):
    definition = _definition(ItemsPath="$", **fields)

    with pytest.raises(ClientError, match="ASLParserException"):
        aws["sfn"].create_state_machine(name="refused", definition=json.dumps(definition),
                                        roleArn="arn:aws:iam::123456789012:role/backfill")
    assert _run_local(definition, [1, 2, 3])[0].status == "SUCCEEDED"


def test_GIVEN_moto_state_machines_WHEN_started_through_the_sync_adapter_THEN_it_waits_and_names_errors_as_step_functions(
        aws):
    from autotagger.errors import ServiceError
    from autotagger.workflow.aws_sdk import StartExecutionSyncTask

    role = "arn:aws:iam::123456789012:role/backfill"
    passing = aws["sfn"].create_state_machine(name="passing", roleArn=role, definition=json.dumps(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"tagged": True}, "End": True}}}))["stateMachineArn"]
    failing = aws["sfn"].create_state_machine(name="failing", roleArn=role, definition=json.dumps(
        {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "c"}}}))["stateMachineArn"]
    start = StartExecutionSyncTask(lambda service: aws["sfn"], poll_s=0.02)

    answer = start({"StateMachineArn": passing, "Name": "once", "Input": {"k": 1}})
    with pytest.raises(ServiceError) as again:
        start({"StateMachineArn": passing, "Name": "once", "Input": {"k": 1}})
    with pytest.raises(ServiceError) as failed:
        start({"StateMachineArn": failing, "Input": {}})

    assert (answer["Status"], answer["Input"], answer["Output"]) == ("SUCCEEDED", {"k": 1}, {"tagged": True})
    assert again.value.error_name == "StepFunctions.ExecutionAlreadyExists"
    assert failed.value.error_name == "States.TaskFailed" and json.loads(failed.value.message)["Status"] == "FAILED"
