"""The backfill (statemachine/backfill.asl.json): valid ASL, deployed as-is with its
DefinitionSubstitutions, a least-privilege role and a results bucket of its own."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

from autotagger import contracts

REPO_ROOT = contracts.ASL_FILE.parents[1]


def _state_machine(synth) -> dict:
    return synth.resource(synth.stack.backfill.state_machine)["Properties"]


def test_given_the_backfill_file_when_validated_with_asl_validator_then_it_is_valid():
    npx = shutil.which("npx")
    assert npx, "npx is missing: run `make setup`"
    result = subprocess.run(
        [npx, "--no-install", "asl-validator", "--json-path",
         str(contracts.BACKFILL_ASL_FILE.relative_to(REPO_ROOT))],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_given_the_backfill_when_synthesized_then_it_is_the_file_with_every_placeholder_substituted(dev):
    properties = _state_machine(dev)
    text = contracts.BACKFILL_ASL_FILE.read_text(encoding="utf-8")
    placeholders = set(re.findall(r"\$\{([^}]*)\}", text))
    assert set(properties["DefinitionSubstitutions"]) == placeholders
    deployed = dev.outdir / f"asset.{properties['DefinitionS3Location']['Key']}"
    assert deployed.read_bytes() == contracts.BACKFILL_ASL_FILE.read_bytes()
    substitutions = properties["DefinitionSubstitutions"]
    assert substitutions["BucketName"] == dev.ref(dev.stack.storage.bucket)
    assert substitutions["TaggingStateMachineArn"] == dev.ref(dev.stack.workflow.state_machine)
    assert substitutions["ResultsBucketName"] == dev.ref(dev.stack.backfill.results)
    # The region's DetectLabels rate, as the API's (cdk/quota.py): a condition on AWS::Region whose
    # innermost value is the other regions' concurrency.
    concurrency = substitutions["MaxConcurrency"]
    while isinstance(concurrency, dict):
        concurrency = concurrency["Fn::If"][2]
    assert concurrency == str(contracts.backfill_max_concurrency(contracts.DETECT_LABELS_TPS_OTHER_REGIONS))


def test_given_the_backfill_role_when_synthesized_then_it_holds_exactly_what_the_map_run_and_sync_need(dev):
    actions = dev.role_actions(dev.stack.backfill.role)
    expected = {"s3:ListBucket", "states:StartExecution", "states:DescribeExecution", "states:StopExecution",
                "events:PutTargets", "events:PutRule", "events:DescribeRule", "s3:PutObject", "s3:GetObject",
                "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"}
    assert expected <= actions
    # nothing more than those and the X-Ray / log delivery actions of a traced, logged state machine
    assert {a for a in actions - expected if not a.startswith(("xray:", "logs:"))} == set()
    statements = dev.role_statements(dev.stack.backfill.role)
    (listing,) = [s for s in statements if s["Action"] == "s3:ListBucket"]
    assert listing["Resource"] == dev.arn(dev.stack.storage.bucket)
    (rule,) = [s for s in statements if "events:PutRule" in s["Action"]]
    assert "rule/StepFunctionsGetEventsForStepFunctionsExecutionRule" in json.dumps(rule["Resource"])
    starts = [s["Resource"] for s in statements if s["Action"] == "states:StartExecution"]
    assert sorted(map(json.dumps, starts)) == sorted(map(json.dumps, [dev.ref(dev.stack.workflow.state_machine),
                                                                      dev.ref(dev.stack.backfill.state_machine)]))


def test_given_the_stack_outputs_when_synthesized_then_reprocess_finds_the_backfill(dev):
    outputs = dev.json["Outputs"]
    assert outputs["BackfillStateMachineArn"]["Value"] == dev.ref(dev.stack.backfill.state_machine)
    assert outputs["StateMachineArn"]["Value"] == dev.ref(dev.stack.workflow.state_machine)
