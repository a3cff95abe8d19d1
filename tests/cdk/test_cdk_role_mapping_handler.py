"""The role-mapping custom resource handler against a recording HTTP endpoint and moto's
Secrets Manager: which security API calls it makes, with which credentials, and its retries."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from moto import mock_aws

from cdk.role_mapping import index as role_mapping

PROPS = {
    "RoleName": "autotagger_indexer",
    "BackendRoleArn": "arn:aws:iam::123456789012:role/indexer",
    "IndexPatterns": ["image_insights*"],
    "ClusterPermissions": ["cluster_composite_ops"],
    "IndexActions": ["crud"],
}


class SecurityApi(ThreadingHTTPServer):
    """Records every request; answers each with the next queued status (200 when none queued)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.server.requests.append({"method": self.command, "path": self.path,
                                     "auth": self.headers.get("Authorization"), "body": body})
        status = self.server.statuses.pop(0) if self.server.statuses else 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    do_PUT = do_DELETE = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def api():
    server = SecurityApi()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


@pytest.fixture
def secrets():
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        arn = client.create_secret(Name="master", SecretString=json.dumps(
            {"username": "admin", "password": "S3cret!pw"}))["ARN"]
        yield client, arn


def _apply(api, secrets, request_type):
    client, arn = secrets
    props = {**PROPS, "Endpoint": f"http://127.0.0.1:{api.server_address[1]}", "SecretArn": arn}
    role_mapping.apply(props, secrets_client=client, retry_seconds=0)


def test_given_a_create_when_applied_then_the_role_is_written_before_it_is_mapped_to_the_indexer_role(api, secrets):
    _apply(api, secrets, "Create")
    assert [(r["method"], r["path"]) for r in api.requests] == [
        ("PUT", "/_plugins/_security/api/roles/autotagger_indexer"),
        ("PUT", "/_plugins/_security/api/rolesmapping/autotagger_indexer"),
    ]


def test_given_a_create_when_applied_then_the_mapping_names_the_indexer_iam_role_as_backend_role(api, secrets):
    _apply(api, secrets, "Create")
    assert api.requests[1]["body"] == {"backend_roles": [PROPS["BackendRoleArn"]]}


def test_given_a_create_when_applied_then_the_role_is_limited_to_the_image_index(api, secrets):
    _apply(api, secrets, "Create")
    assert api.requests[0]["body"]["index_permissions"] == [
        {"index_patterns": PROPS["IndexPatterns"], "allowed_actions": PROPS["IndexActions"]}]


def test_given_the_master_secret_when_applied_then_requests_carry_its_basic_credentials(api, secrets):
    _apply(api, secrets, "Update")
    expected = "Basic " + base64.b64encode(b"admin:S3cret!pw").decode()
    assert {r["auth"] for r in api.requests} == {expected}


def test_given_a_domain_still_starting_when_it_answers_503_then_the_call_is_retried(api, secrets):
    api.statuses = [503, 503]
    _apply(api, secrets, "Create")
    assert [r["path"].rsplit("/", 2)[-2] for r in api.requests] == ["roles", "roles", "roles", "rolesmapping"]


def test_given_a_request_the_api_refuses_when_applied_then_the_deployment_fails_without_retrying(api, secrets):
    api.statuses = [400]
    with pytest.raises(role_mapping.SecurityApiError, match="HTTP 400"):
        _apply(api, secrets, "Create")
    assert len(api.requests) == 1


def test_given_a_delete_when_handled_then_it_returns_at_once_without_reading_the_secret_or_calling_the_domain(
        api, monkeypatch):
    """A stack being deleted may already have lost the domain, the endpoint or the rules: a Delete
    that called them would hang until the function timed out (DELETE_FAILED)."""
    def no_network(*args, **kwargs):
        pytest.fail("Delete made a network call")
    monkeypatch.setattr(role_mapping.urllib.request, "urlopen", no_network)
    monkeypatch.setattr(role_mapping.boto3, "client", no_network)
    event = {"RequestType": "Delete", "PhysicalResourceId": PROPS["RoleName"], "ResourceProperties": {
        **PROPS, "Endpoint": f"http://127.0.0.1:{api.server_address[1]}", "SecretArn": "arn:aws:secretsmanager:x"}}
    assert role_mapping.handler(event, None) == {"PhysicalResourceId": PROPS["RoleName"]}
    assert api.requests == []


def test_given_the_provider_event_when_handled_then_the_physical_id_is_the_opensearch_role_name(monkeypatch):
    monkeypatch.setattr(role_mapping, "apply", lambda props: None)
    event = {"RequestType": "Create", "ResourceProperties": {**PROPS, "Endpoint": "x", "SecretArn": "y"}}
    assert role_mapping.handler(event, None) == {"PhysicalResourceId": PROPS["RoleName"]}
