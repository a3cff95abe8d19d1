"""Runs the Postman collection with newman (from node_modules), with the local or the aws environment file."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
API_KEY = "postman-test-key"


def run_newman(base_url: str, api_key: str, report: Path, *extra: str,
               environment: str = "local") -> subprocess.CompletedProcess:
    """newman with `postman/<environment>.postman_environment.json`, pointed at `base_url`."""
    npx = shutil.which("npx")
    if npx is None or not (REPO / "node_modules" / ".bin" / "newman").exists():
        pytest.fail("newman is not installed: run `npm install` (make test does)")
    command = [npx, "--no-install", "newman", "run", "postman/autotagger.postman_collection.json",
               "--environment", f"postman/{environment}.postman_environment.json",
               "--env-var", f"base_url={base_url}", "--env-var", f"api_key={api_key}",
               "--working-dir", "postman", "--reporters", "cli,json", "--reporter-json-export", str(report),
               "--color", "off", *extra]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=180,
                          env={**os.environ, "NO_UPDATE_NOTIFIER": "1"})
