"""The boto3 adapters behind the read API's ports, where the API-level tests cannot look."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from api_lambda_support import BUCKET, REGION

from autotagger.api.aws import S3ImageUrls, StepFunctionsExecutions, s3_client
from autotagger.errors import InvalidCursor

pytestmark = pytest.mark.integration


def signature(url: str) -> str:
    return parse_qs(urlsplit(url).query)["X-Amz-Signature"][0]


def test_given_one_moment_when_upload_urls_differ_only_in_type_or_size_then_their_signatures_differ(monkeypatch):
    """S3 recomputes the signature from the request's Content-Type and Content-Length (signed
    headers): a URL signed for one type and size cannot be used with another."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    urls = S3ImageUrls(s3_client(REGION), BUCKET, clock=lambda: 1_795_000_000.0)
    moment = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    with mock.patch("botocore.auth.get_current_datetime", return_value=moment):
        jpeg = urls.upload("big.jpg", "image/jpeg", 1000, 900)
        again = urls.upload("big.jpg", "image/jpeg", 1000, 900)
        longer = urls.upload("big.jpg", "image/jpeg", 1001, 900)
        png = urls.upload("big.jpg", "image/png", 1000, 900)
    assert signature(jpeg["url"]) == signature(again["url"])
    assert len({signature(jpeg["url"]), signature(longer["url"]), signature(png["url"])}) == 3
    assert jpeg["expires_at"] == "2026-11-18T11:21:40.000Z"  # the clock + 900 s


def test_given_a_describe_budget_when_filtering_by_key_then_pages_end_early_and_the_walk_misses_nothing(deployment):
    for number in range(5):
        key = "raw-image/wanted.jpg" if number % 2 == 0 else f"raw-image/other-{number}.jpg"
        deployment.sfn.start_execution(stateMachineArn=deployment.state_machine_arn, name=f"run-{number}",
                                       input=json.dumps({"detail": {"object": {"key": key, "size": 0}}}))
    deployment.settle()
    executions = StepFunctionsExecutions(deployment.sfn, deployment.state_machine_arn, page_size=2, describe_budget=2)
    walked, cursor, pages = [], None, 0
    while True:
        page = executions.list(key="raw-image/wanted.jpg", limit=10, cursor=cursor)
        walked += [e["name"] for e in page["executions"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == ["run-4", "run-2", "run-0"] and pages == 3
    with pytest.raises(InvalidCursor):  # a cursor is bound to the filters it was issued for
        first = executions.list(key="raw-image/wanted.jpg", limit=1)
        executions.list(key="raw-image/other-1.jpg", cursor=first["next_cursor"])
