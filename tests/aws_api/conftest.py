"""Fixtures of the API Lambda tests (the deployment they run against: see api_lambda_support)."""

from __future__ import annotations

import pytest
from api_lambda_support import REGION, Deployment, moto_services

from autotagger.api import aws as api_aws


@pytest.fixture
def deployment(monkeypatch, osmem_clone, lambda_context):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION,
                        "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true"}.items():
        monkeypatch.setenv(name, value)
    api_aws.reset_service()
    with moto_services():
        deployed = Deployment(osmem_clone.url, monkeypatch, lambda_context)
        yield deployed
        deployed.settle()
    api_aws.reset_service()
