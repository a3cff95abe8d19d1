"""newman runs every folder of postman/autotagger.postman_collection.json against both runtimes: the
real local server (`autotagger serve`, with the `local` environment file) and the API Lambda served on
loopback with moto behind it (tests/support/lambda_http.py, with the `aws` environment file)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest
from newman_support import API_KEY, REPO, run_newman

pytestmark = [pytest.mark.integration]
COLLECTION = json.loads((REPO / "postman" / "autotagger.postman_collection.json").read_text())
REQUESTS = {request["name"] for folder in COLLECTION["item"] for request in folder["item"]}


def _failures(report: dict) -> list[str]:
    return [f"{f['source'].get('name')}: {f['error'].get('test') or ''} {f['error'].get('message')}"
            for f in report["run"]["failures"]]


def _run_everything(base_url: str, environment: str, tmp_path: Path) -> dict:
    report_path = tmp_path / "report.json"
    result = run_newman(base_url, API_KEY, report_path, "--env-var", f"object_key=postman-{uuid.uuid4().hex}.jpg",
                        environment=environment)
    report = json.loads(report_path.read_text())
    assert result.returncode == 0, "\n".join(_failures(report)) or result.stdout[-3000:]
    return report


def _check_every_folder_ran(report: dict) -> None:
    executed = {execution["item"]["name"] for execution in report["run"]["executions"]}
    assert executed == REQUESTS
    assert [folder["name"] for folder in COLLECTION["item"]] == [
        "Upload", "Images", "Statistics", "Dead letters", "Executions", "Uploads by URL", "Errors"]
    assertions = report["run"]["stats"]["assertions"]
    assert assertions["failed"] == 0 and assertions["total"] >= 60


@pytest.mark.models
def test_given_the_local_server_when_newman_runs_every_folder_then_every_assertion_holds(keyed_server, tmp_path):
    # Every folder but Upload needs the local /v1 read routes (issue 11): until they are there, no run.
    if httpx.get(f"{keyed_server}/v1/images", headers={"x-api-key": API_KEY}, timeout=10).status_code == 404:
        pytest.skip("the local server does not serve GET /v1/images yet (the local /v1 routes of issue 11)")
    _check_every_folder_ran(_run_everything(keyed_server, "local", tmp_path))


def test_given_the_lambda_behind_api_gateway_on_loopback_when_newman_runs_every_folder_with_the_aws_environment_then_every_assertion_holds(
        lambda_server, tmp_path):
    _check_every_folder_ran(_run_everything(lambda_server, "aws", tmp_path))


@pytest.mark.models
def test_given_a_server_that_requires_a_key_when_the_collection_sends_a_wrong_key_then_its_upload_test_fails(
        keyed_server, tmp_path):
    report_path = tmp_path / "report.json"
    result = run_newman(keyed_server, "not-the-key", report_path, "--folder", "Upload")
    report = json.loads(report_path.read_text())
    assert result.returncode != 0
    assert _failures(report) == [
        "Upload an image: the image is accepted (200) expected response to have status code 200 but got 401"]
