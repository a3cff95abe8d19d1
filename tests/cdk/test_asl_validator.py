"""The ASL file is valid Amazon States Language (asl-validator, from package.json)."""

from __future__ import annotations

import shutil
import subprocess

from autotagger.contracts import ASL_FILE

REPO_ROOT = ASL_FILE.parents[1]


def test_given_the_workflow_file_when_validated_with_asl_validator_then_it_is_valid():
    npx = shutil.which("npx")
    assert npx, "npx is missing: run `make setup`"
    result = subprocess.run(
        [npx, "--no-install", "asl-validator", "--json-path", str(ASL_FILE.relative_to(REPO_ROOT))],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
