"""The deploy's dashboards-install custom resource (functions/dashboards_install/handler.py) against
the loopback stand-in for OpenSearch Dashboards' import API that `autotagger dashboards install` is
tested with, and moto's Secrets Manager for the master user."""

from __future__ import annotations

import base64
import json
import threading
from http.server import ThreadingHTTPServer

import boto3
import pytest
from moto import mock_aws
from saved_objects_support import SAVED_OBJECTS, load_saved_objects
from test_install_command import ImportApi

from functions.dashboards_install import handler as installer


@pytest.fixture
def dashboards_api():
    ImportApi.requests = []
    ImportApi.fail_with = None
    server = ThreadingHTTPServer(("127.0.0.1", 0), ImportApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", ImportApi
    server.shutdown()
    server.server_close()


@pytest.fixture
def secret():
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        arn = client.create_secret(Name="master", SecretString=json.dumps(
            {"username": "admin", "password": "S3cret!pw"}))["ARN"]
        yield client, arn


@pytest.fixture
def asset_dir(tmp_path):
    """The saved objects where the asset carries them (cdk/constructs/search_domain.py)."""
    for path in SAVED_OBJECTS:
        (tmp_path / path.name).write_bytes(path.read_bytes())
    return tmp_path


def _event(request_type, endpoint, secret_arn):
    return {"RequestType": request_type, "ResourceProperties": {
        "Endpoint": endpoint, "SecretArn": secret_arn, "SavedObjectsSha256": "x"}}


def test_GIVEN_a_create_WHEN_handled_twice_THEN_every_saved_object_is_imported_with_overwrite_as_the_master_user(
        dashboards_api, secret, asset_dir):
    url, api = dashboards_api
    client, arn = secret
    for request_type in ("Create", "Update"):
        answer = installer.handler(_event(request_type, url, arn), None, secrets_client=client, directory=asset_dir)
        assert answer == {"PhysicalResourceId": installer.PHYSICAL_ID, "Data": {"Imported": len(load_saved_objects())}}
    assert len(api.requests) == 2
    expected = [(o["type"], o["id"]) for o in load_saved_objects()]
    token = base64.b64encode(b"admin:S3cret!pw").decode()
    for request in api.requests:
        assert request["query"] == {"overwrite": ["true"]} and request["headers"]["osd-xsrf"] == "true"
        assert request["headers"]["Authorization"] == f"Basic {token}"
        assert [(o["type"], o["id"]) for o in request["objects"]] == expected


def test_GIVEN_an_import_that_reports_errors_WHEN_retries_run_out_THEN_the_deployment_fails_naming_the_object(
        dashboards_api, secret, asset_dir):
    url, api = dashboards_api
    client, arn = secret
    api.fail_with = {"success": False, "errors": [
        {"id": "image-insights-tag-cloud", "type": "visualization", "error": {"type": "missing_references"}}]}
    with pytest.raises(installer.UserError, match="visualization image-insights-tag-cloud"):
        installer.handler(_event("Create", url, arn), None, secrets_client=client, directory=asset_dir,
                          retry_seconds=0)
    assert len(api.requests) == installer.ATTEMPTS


def test_GIVEN_a_delete_WHEN_handled_THEN_it_returns_at_once_without_reading_the_secret_or_calling_dashboards(
        dashboards_api, monkeypatch):
    url, api = dashboards_api

    def no_network(*args, **kwargs):
        pytest.fail("Delete made a network call")
    monkeypatch.setattr(installer, "master_user", no_network)
    monkeypatch.setattr(installer, "install", no_network)
    event = {**_event("Delete", url, "arn:aws:secretsmanager:x"), "PhysicalResourceId": installer.PHYSICAL_ID}
    assert installer.handler(event, None) == {"PhysicalResourceId": installer.PHYSICAL_ID}
    assert api.requests == []


def test_GIVEN_an_asset_without_saved_objects_WHEN_created_THEN_it_fails_before_any_call(tmp_path, secret):
    client, arn = secret
    with pytest.raises(installer.UserError, match="no .ndjson file"):
        installer.handler(_event("Create", "http://127.0.0.1:9", arn), None, secrets_client=client, directory=tmp_path)
