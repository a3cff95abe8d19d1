"""Local workflow engine vs moto's Step Functions interpreter, same definition, same inputs.

Both run `statemachine/image_tagging.asl.json` over the same cycle of EventBridge S3 events (an
upload, a delete, an empty object, a non-image key). The local engine uses instant in-memory task
adapters, so the figure is engine time; moto runs the definition with its own S3/Kinesis/SQS and
Rekognition (also in-process). Reported: executions/second of each, their ratio (target >= 10x)
and the engine's wall and CPU time per execution (target < 1 ms). Run: `python -m bench.bench_engine`.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from autotagger.contracts import NORMALIZE_FUNCTION_NAME, definition_substitutions, function_arn
from bench.common import REPO_ROOT, compare, log, machine, median, ratio, spread

# The definition's tasks all have TimeoutSeconds: by default each call is handed to a deadline
# worker thread (see autotagger.workflow.task_runner); instant adapters registered inline skip the
# hand-off. Both are measured; the engine-time target is about the inline figure.
ASL = Path(REPO_ROOT) / "statemachine" / "image_tagging.asl.json"
EVENTS = Path(REPO_ROOT) / "tests" / "events"
STREAM = "image-records"
LABELS = {
    "Labels": [
        {
            "Name": "Dog",
            "Confidence": 97.5,
            "Instances": [],
            "Parents": [{"Name": "Animal"}],
            "Aliases": [],
            "Categories": [],
        }
    ],
    "LabelModelVersion": "3.0",
}
TEXT = {"TextDetections": [], "TextModelVersion": "3.0"}
MODERATION = {"ModerationLabels": [], "ModerationModelVersion": "7.0"}


def inputs() -> list[dict]:
    created = json.loads((EVENTS / "object_created.json").read_text())
    deleted = json.loads((EVENTS / "object_deleted.json").read_text())
    empty, text = copy.deepcopy(created), copy.deepcopy(created)
    empty["detail"]["object"]["size"] = 0
    text["detail"]["object"]["key"] = "raw-image/notes.txt"
    return [created, deleted, empty, text]


def instant_registry(inline: bool):
    """Instant adapters; `inline` runs them in the execution's thread instead of a deadline worker."""
    from autotagger.workflow import TaskRegistry

    registry = TaskRegistry()
    registry.register("arn:aws:states:::aws-sdk:rekognition:detectLabels", lambda p: LABELS, inline=inline)
    registry.register("arn:aws:states:::aws-sdk:rekognition:detectText", lambda p: TEXT, inline=inline)
    registry.register("arn:aws:states:::aws-sdk:rekognition:detectModerationLabels", lambda p: MODERATION,
                      inline=inline)
    registry.register(
        "arn:aws:states:::aws-sdk:kinesis:putRecord",
        lambda p: {"SequenceNumber": "1", "ShardId": "shardId-000000000000"},
        inline=inline,
    )
    registry.register(
        "arn:aws:states:::sqs:sendMessage",
        lambda p: {
            "MessageId": str(uuid.uuid4()),
            "MD5OfMessageBody": hashlib.md5(p["MessageBody"].encode()).hexdigest(),
        },
        inline=inline,
    )
    registry.register("arn:aws:states:::aws-sdk:s3:deleteObject", lambda p: {}, inline=inline)
    registry.register("arn:aws:states:::lambda:invoke", _no_function, inline=inline)
    return registry


def _no_function(parameters: dict) -> dict:
    """The Normalize function as moto's run sees it (no Lambda deployed there): not found, so the
    non-image key of `inputs()` ends as a dead letter in both engines."""
    from autotagger.errors import ServiceError

    raise ServiceError(f"Function not found: {parameters['FunctionName']}", service="Lambda",
                       code="ResourceNotFoundException")


def bench_local(executions: int, repeats: int, inline: bool) -> dict[str, Any]:
    from autotagger.workflow import StateMachine

    substitutions = definition_substitutions(
        max_labels=20, min_confidence=55, stream_name=STREAM, dead_letter_queue_url="https://sqs.local/dead-letters",
        normalize_function=function_arn(NORMALIZE_FUNCTION_NAME),
    )
    sm = StateMachine.from_file(ASL, substitutions=substitutions, name="image-tagging")
    registry, events = instant_registry(inline), inputs()
    for value in events * 25:  # warm-up
        sm.run(value, registry)
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        for i in range(executions):
            sm.run(events[i % len(events)], registry)
        walls.append((time.perf_counter() - wall) / executions)
        cpus.append((time.process_time() - cpu) / executions)
    statuses = sorted({sm.run(value, registry).status for value in events})
    return {
        "executions": executions,
        "wall_ms_per_execution": spread([w * 1000 for w in walls]),
        "cpu_ms_per_execution": spread([c * 1000 for c in cpus]),
        "executions_per_second": 1 / median(walls),
        "statuses": statuses,
    }


def bench_moto(executions: int, repeats: int) -> dict[str, Any]:
    import boto3
    from moto import mock_aws

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(name, value)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        s3, kinesis, sqs, sfn = (
            boto3.client(s, region_name="us-east-1") for s in ("s3", "kinesis", "sqs", "stepfunctions")
        )
        s3.create_bucket(Bucket="image-vaults")
        s3.put_object(Bucket="image-vaults", Key="raw-image/dog.jpg", Body=b"\xff\xd8\xff\xe0pixels")
        kinesis.create_stream(StreamName=STREAM, ShardCount=1)
        queue = sqs.create_queue(QueueName="dead-letters")["QueueUrl"]
        definition = ASL.read_text()
        for key, value in definition_substitutions(
            max_labels=20, min_confidence=55, stream_name=STREAM, dead_letter_queue_url=queue,
            normalize_function=function_arn(NORMALIZE_FUNCTION_NAME),
        ).items():
            definition = definition.replace("${" + key + "}", value)
        arn = sfn.create_state_machine(
            name="image-tagging", definition=definition, roleArn="arn:aws:iam::123456789012:role/x"
        )["stateMachineArn"]
        events, walls, statuses = inputs(), [], set()
        for _ in range(repeats):
            start = time.perf_counter()
            for i in range(executions):
                execution = sfn.start_execution(
                    stateMachineArn=arn, name=uuid.uuid4().hex, input=json.dumps(events[i % len(events)])
                )["executionArn"]
                while (status := sfn.describe_execution(executionArn=execution)["status"]) == "RUNNING":
                    time.sleep(0.002)
                statuses.add(status)
            walls.append((time.perf_counter() - start) / executions)
    return {
        "executions": executions,
        "wall_ms_per_execution": spread([w * 1000 for w in walls]),
        "executions_per_second": 1 / median(walls),
        "statuses": sorted(statuses),
    }


SPEEDUP_TARGET = 10  # engine executions/s over moto's
ENGINE_MS_TARGET = 1.0  # engine wall ms per execution


def run(local_executions: int = 2000, moto_executions: int = 8, repeats: int = 3) -> dict[str, Any]:
    log(f"local engine, inline adapters: {local_executions} executions x {repeats}")
    local = bench_local(local_executions, repeats, inline=True)
    log(f"local engine, adapters on deadline workers: {local_executions} executions x {repeats}")
    threaded = bench_local(local_executions, repeats, inline=False)
    log(f"moto interpreter: {moto_executions} executions x {repeats}")
    moto = bench_moto(moto_executions, repeats)
    speedup = ratio(local["executions_per_second"], moto["executions_per_second"])
    return {
        "benchmark": "workflow engine vs moto Step Functions interpreter (image_tagging.asl.json)",
        "machine": machine(),
        "local": local,
        "local_deadline_workers": threaded,
        "moto": moto,
        "speedup": speedup,
        "speedup_deadline_workers": ratio(threaded["executions_per_second"], moto["executions_per_second"]),
        "targets": {
            "speedup_at_least": SPEEDUP_TARGET,
            "engine_ms_per_execution_below": ENGINE_MS_TARGET,
            # by the conservative figure: the ratio of medians and the worst repetition
            "speedup_met": compare(
                moto["wall_ms_per_execution"]["runs"], local["wall_ms_per_execution"]["runs"], SPEEDUP_TARGET
            )["meets_target"],
            "engine_time_met": local["wall_ms_per_execution"]["median"] < ENGINE_MS_TARGET,
        },
    }


if __name__ == "__main__":
    result = run()
    print(json.dumps(result, indent=2))
    print(
        f"local engine: {result['local']['executions_per_second']:.0f} executions/s, "
        f"{result['local']['wall_ms_per_execution']['median']:.3f} ms wall / "
        f"{result['local']['cpu_ms_per_execution']['median']:.3f} ms CPU per execution"
    )
    print(
        f"local engine, tasks on deadline worker threads: "
        f"{result['local_deadline_workers']['executions_per_second']:.0f} executions/s, "
        f"{result['local_deadline_workers']['wall_ms_per_execution']['median']:.3f} ms wall per execution"
    )
    print(f"moto interpreter: {result['moto']['executions_per_second']:.1f} executions/s")
    print(f"ratio: {result['speedup']:.0f}x (target >= {SPEEDUP_TARGET}x)")
