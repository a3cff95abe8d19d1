"""`autotagger reprocess`: re-runs the workflow on stored objects, rate-limited, resumable and
idempotent, locally and (with moto) against a deployed state machine; AWS dead-letter redrive."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from autotagger.contracts import RETAG_SEQUENCER
from autotagger.domain.documents import document_id
from autotagger.reprocess import (
    Checkpoint,
    RateLimiter,
    default_rate,
    execution_name,
    redrive_aws,
    reprocess_aws,
    reprocess_local,
)
from tests.fakes import FakeLabeler, fake_analysers

from .conftest import settle_and_check, upload
from .fast_labeler import small_png
from .invariant import Ledger

BUCKET = "image-vaults"
KEYS = [f"photos/{i}.png" for i in range(5)]


def new_model_labeler() -> FakeLabeler:
    """The labeler after a model change: another version, another answer."""
    return FakeLabeler(model_version="fast-2", png="Tiger", jpeg="Tiger")


@pytest.fixture
def stored(make_pipeline):
    """Five images tagged by the first model; returns the ledger."""
    pipeline, ledger = make_pipeline(), Ledger()
    for i, key in enumerate(KEYS):
        upload(pipeline, ledger, key, small_png(i))
    upload(pipeline, ledger, "other/elsewhere.png", small_png(99))
    settle_and_check(pipeline, ledger)
    pipeline.close()
    return ledger


@pytest.fixture
def new_model_pipeline(tmp_path, sleeper):
    from autotagger.config import Settings
    from autotagger.local.runtime import Pipeline

    with Pipeline(Settings(data_dir=tmp_path / "data", workers=2), labeler=new_model_labeler(), sleeper=sleeper,
                  **fake_analysers()) as p:
        yield p


def _tags(pipeline, key):
    return pipeline.index.get(document_id(BUCKET, key))["tags"]


def test_GIVEN_a_model_change_WHEN_reprocessing_a_prefix_THEN_its_images_carry_the_new_labels(stored, new_model_pipeline):
    result = reprocess_local(new_model_pipeline, prefix="photos/", rate=1000)

    settle_and_check(new_model_pipeline, stored)
    assert len(result.started) == len(KEYS)
    assert all("Tiger" in _tags(new_model_pipeline, key) for key in KEYS)
    assert "Tiger" not in _tags(new_model_pipeline, "other/elsewhere.png")


def test_GIVEN_a_finished_reprocess_WHEN_run_again_THEN_nothing_runs_twice(stored, new_model_pipeline):
    reprocess_local(new_model_pipeline, prefix="photos/", rate=1000)
    assert new_model_pipeline.wait_idle(30)

    again = reprocess_local(new_model_pipeline, prefix="photos/", rate=1000)
    restarted = reprocess_local(new_model_pipeline, prefix="photos/", rate=1000, restart=True)

    assert (again.started, restarted.started, len(restarted.already_run)) == ([], [], len(KEYS))


def test_GIVEN_an_interrupted_reprocess_WHEN_run_again_THEN_it_resumes_after_the_checkpoint(stored, new_model_pipeline):
    stop = threading.Event()
    seen = []

    def progress(n):
        seen.append(n)
        if len(seen) == 2:
            stop.set()

    first = reprocess_local(new_model_pipeline, prefix="photos/", rate=1000, progress=progress, stop=stop)
    second = reprocess_local(new_model_pipeline, prefix="photos/", rate=1000)

    assert len(first.started) == 2 and second.resumed_after == KEYS[1]
    assert len(second.started) == 3 and not set(first.started) & set(second.started)


def test_GIVEN_since_after_every_upload_WHEN_reprocessing_THEN_nothing_runs(stored, new_model_pipeline):
    result = reprocess_local(new_model_pipeline, since=datetime.now(UTC) + timedelta(days=1), rate=1000)

    assert (result.started, result.considered) == ([], len(KEYS) + 1)


def test_GIVEN_a_rate_of_5_per_second_WHEN_starting_11_THEN_they_are_paced_over_2_seconds_of_clock():
    now = [0.0]
    limiter = RateLimiter(5, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))

    for _ in range(11):
        limiter.wait()

    assert now[0] == pytest.approx(2.0)


@pytest.mark.parametrize("region, rate", [("us-east-1", 50), ("us-west-2", 50), ("eu-west-1", 50),
                                          ("ap-south-1", 5), ("local", 50), (None, 50)])
def test_GIVEN_a_region_WHEN_no_rate_is_given_THEN_the_default_is_its_detect_labels_tps_quota(region, rate):
    assert default_rate(region) == rate


def test_GIVEN_the_cli_WHEN_reprocessing_THEN_it_reports_the_run_and_leaves_a_checkpoint(stored, tmp_path, monkeypatch,
                                                                                         capsys):
    import autotagger.labeler as labeler_module
    from autotagger.cli import main

    monkeypatch.setattr(labeler_module, "get_labeler", lambda *a, **k: new_model_labeler())

    code = main(["reprocess", "--data-dir", str(tmp_path / "data"), "--prefix", "photos/", "--rate", "500"])

    assert code == 0 and "5 execution(s) started" in capsys.readouterr().out
    (checkpoint,) = (tmp_path / "data" / "reprocess").glob("*.json")
    assert json.loads(checkpoint.read_text())["done"] is True


@pytest.mark.parametrize("argv, message", [
    (["--rate", "0"], "--rate"), (["--since", "yesterday"], "--since"), (["--aws"], "--state-machine-arn"),
    (["--dlq-url", "https://sqs"], "need --aws"),
])
def test_GIVEN_bad_options_WHEN_reprocessing_THEN_exit_2_with_the_reason(tmp_path, capsys, argv, message):
    from autotagger.cli import main

    assert main(["reprocess", "--data-dir", str(tmp_path / "d"), *argv]) == 2
    assert message in capsys.readouterr().err


# -- AWS (moto) ----------------------------------------------------------------------------------

@pytest.fixture
def aws(monkeypatch):
    from moto import mock_aws

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        for i, key in enumerate(KEYS):
            s3.put_object(Bucket=BUCKET, Key=key, Body=small_png(i))
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        with open("statemachine/image_tagging.asl.json") as f:
            definition = f.read()
        arn = sfn.create_state_machine(name="image-tagging", definition=definition,
                                       roleArn="arn:aws:iam::123456789012:role/sfn")["stateMachineArn"]
        sqs = boto3.client("sqs", region_name="us-east-1")
        queue = sqs.create_queue(QueueName="image-tagging-dlq")["QueueUrl"]
        yield {"s3": s3, "sfn": sfn, "sqs": sqs, "arn": arn, "queue": queue}


def _names(aws):
    return sorted(e["name"] for e in aws["sfn"].list_executions(stateMachineArn=aws["arn"])["executions"])


def test_GIVEN_objects_in_s3_WHEN_reprocessing_on_aws_THEN_one_execution_per_object_with_a_deterministic_name(
        aws, tmp_path):
    result = reprocess_aws(aws["sfn"], aws["s3"], state_machine_arn=aws["arn"], bucket=BUCKET, rate=1000, run="r1",
                           checkpoint_file=tmp_path / "cp.json")

    etags = {k: aws["s3"].head_object(Bucket=BUCKET, Key=k)["ETag"].strip('"') for k in KEYS}
    assert _names(aws) == sorted(execution_name("reprocess", "r1", k, etags[k]) for k in KEYS) == sorted(result.started)


def test_GIVEN_an_aws_reprocess_WHEN_its_executions_are_read_THEN_each_input_is_the_s3_object_created_event(aws, tmp_path):
    reprocess_aws(aws["sfn"], aws["s3"], state_machine_arn=aws["arn"], bucket=BUCKET, rate=1000, run="r1",
                  checkpoint_file=tmp_path / "cp.json")
    execution = aws["sfn"].list_executions(stateMachineArn=aws["arn"])["executions"][0]

    event = json.loads(aws["sfn"].describe_execution(executionArn=execution["executionArn"])["input"])

    assert (event["source"], event["detail-type"], event["detail"]["bucket"]["name"]) == \
        ("aws.s3", "Object Created", BUCKET) and event["detail"]["object"]["key"] in KEYS


def test_GIVEN_an_aws_reprocess_WHEN_run_again_from_the_start_THEN_no_execution_is_added(aws, tmp_path):
    options = {"state_machine_arn": aws["arn"], "bucket": BUCKET, "rate": 1000, "run": "r1", "checkpoint_file": tmp_path / "cp.json"}
    reprocess_aws(aws["sfn"], aws["s3"], **options)

    reprocess_aws(aws["sfn"], aws["s3"], restart=True, **options)

    assert len(_names(aws)) == len(KEYS)


def test_GIVEN_an_aws_reprocess_WHEN_its_events_are_read_THEN_each_is_a_retag_of_the_listed_etag(aws, tmp_path):
    reprocess_aws(aws["sfn"], aws["s3"], state_machine_arn=aws["arn"], bucket=BUCKET, rate=1000, run="r1",
                  checkpoint_file=tmp_path / "cp.json")

    inputs = [json.loads(aws["sfn"].describe_execution(executionArn=e["executionArn"])["input"])
              for e in aws["sfn"].list_executions(stateMachineArn=aws["arn"])["executions"]]
    etags = {k: aws["s3"].head_object(Bucket=BUCKET, Key=k)["ETag"].strip('"') for k in KEYS}
    assert {i["detail"]["object"]["key"]: (i["detail"]["object"]["sequencer"], i["detail"]["object"]["etag"])
            for i in inputs} == {k: (RETAG_SEQUENCER, etags[k]) for k in KEYS}


def test_GIVEN_an_interrupted_aws_reprocess_WHEN_resumed_THEN_s3_is_listed_after_the_checkpoint(aws, tmp_path):
    Checkpoint(tmp_path / "cp.json", "r1", last_key=KEYS[2]).save()

    result = reprocess_aws(aws["sfn"], aws["s3"], state_machine_arn=aws["arn"], bucket=BUCKET, rate=1000, run="r1",
                           checkpoint_file=tmp_path / "cp.json")

    assert (result.resumed_after, result.considered) == (KEYS[2], 2)


def _dead_letter(aws, event):
    aws["sqs"].send_message(QueueUrl=aws["queue"], MessageBody=json.dumps(
        {"event": event, "error": "Rekognition.ThrottlingException", "cause": "Rate exceeded"}))


def test_GIVEN_workflow_dead_letters_in_sqs_WHEN_redriven_on_aws_THEN_each_original_event_runs_again_once(aws):
    events = [{"detail-type": "Object Created", "detail": {"object": {"key": k}}} for k in KEYS[:2]]
    for event in events:
        _dead_letter(aws, event)

    first = redrive_aws(aws["sfn"], aws["sqs"], state_machine_arn=aws["arn"], queue_url=aws["queue"], rate=1000)
    second = redrive_aws(aws["sfn"], aws["sqs"], state_machine_arn=aws["arn"], queue_url=aws["queue"], rate=1000)

    assert len(first.started) == 2 and second.started == [] and len(_names(aws)) == 2
    assert all(name.startswith("redrive-dlq-") for name in first.started)


def test_GIVEN_a_dead_letter_without_its_event_WHEN_redriven_on_aws_THEN_it_stays_in_the_queue(aws):
    aws["sqs"].send_message(QueueUrl=aws["queue"], MessageBody="not json")

    result = redrive_aws(aws["sfn"], aws["sqs"], state_machine_arn=aws["arn"], queue_url=aws["queue"], rate=1000,
                         visibility_timeout_s=0)

    assert len(result.not_redrivable) == 1 and result.started == []
    left = aws["sqs"].get_queue_attributes(QueueUrl=aws["queue"], AttributeNames=["ApproximateNumberOfMessages"])
    assert left["Attributes"]["ApproximateNumberOfMessages"] == "1"
