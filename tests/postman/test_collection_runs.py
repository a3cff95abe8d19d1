"""newman runs postman/autotagger.postman_collection.json against the real local server."""

from __future__ import annotations

import json
import uuid

import pytest
from newman_support import API_KEY, run_newman

pytestmark = [pytest.mark.integration, pytest.mark.models]


def _failures(report: dict) -> list[str]:
    return [f"{f['source'].get('name')}: {f['error'].get('test') or ''} {f['error'].get('message')}"
            for f in report["run"]["failures"]]


def test_GIVEN_the_local_server_WHEN_newman_runs_the_collection_THEN_the_upload_is_found_by_its_tag_and_counted(keyed_server, tmp_path):
    report_path = tmp_path / "report.json"
    result = run_newman(keyed_server, API_KEY, report_path, "--env-var", f"object_key=postman-{uuid.uuid4().hex}.jpg")
    report = json.loads(report_path.read_text())
    assert result.returncode == 0, _failures(report) or result.stdout[-3000:]
    executed = {execution["item"]["name"] for execution in report["run"]["executions"]}
    assert executed == {"Upload an image", "Wait until the image is tagged", "List images by tag", "Tag counts"}
    assertions = report["run"]["stats"]["assertions"]
    assert assertions["failed"] == 0 and assertions["total"] >= 10


def test_GIVEN_a_server_that_requires_a_key_WHEN_the_collection_sends_a_wrong_key_THEN_its_upload_test_fails(keyed_server, tmp_path):
    report_path = tmp_path / "report.json"
    result = run_newman(keyed_server, "not-the-key", report_path, "--folder", "Upload")
    report = json.loads(report_path.read_text())
    assert result.returncode != 0
    assert _failures(report) == ["Upload an image: the image is accepted (200) expected response to have status code 200 but got 401"]
