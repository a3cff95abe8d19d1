"""The checks a user would run by hand: `npx cdk synth` (offline, no Docker) and cfn-lint."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from cdk.stack import STACK_NAME

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_given_a_machine_without_docker_when_running_npx_cdk_synth_then_the_template_is_written(tmp_path):
    npx = shutil.which("npx")
    assert npx, "npx is missing: run `make setup`"
    environment = {
        **os.environ,
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "CDK_DOCKER": str(tmp_path / "no-docker-here"),  # bundling must not need a Docker engine
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    result = subprocess.run(
        [npx, "--no-install", "cdk", "synth", "--quiet", "--no-notices", "--output", str(tmp_path / "out")],
        cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    template = json.loads((tmp_path / "out" / f"{STACK_NAME}.template.json").read_text())
    assert "AWS::StepFunctions::StateMachine" in {r["Type"] for r in template["Resources"].values()}


def test_given_the_synthesized_templates_when_linted_with_cfn_lint_then_there_is_no_error(dev, variant):
    result = subprocess.run(
        [sys.executable, "-m", "cfnlint", "--format", "json", str(dev.template_file), str(variant.template_file)],
        capture_output=True, text=True, timeout=300,
    )
    findings = json.loads(result.stdout or "[]")
    errors = [(f["Rule"]["Id"], f["Message"]) for f in findings if f["Level"] == "Error"]
    assert (errors, result.returncode & 2) == ([], 0)
