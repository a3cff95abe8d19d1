"""Custom resource: give the indexer's IAM role its OpenSearch permissions, at deploy time.

With fine-grained access control an IAM role that signs requests is authenticated but may do
nothing until an OpenSearch role is mapped to it, which is normally a manual step in Dashboards.
This handler does it through the security REST API, as the master user whose password CDK
generated into Secrets Manager: it creates (or updates) an OpenSearch role limited to the image
index and its template, and maps the indexer's role ARN to it as a backend role.

Runs in the domain's VPC (the domain has no public endpoint) and uses only the standard library
and the boto3 of the Lambda runtime, so it needs no bundling.

Delete returns at once, without a network call: the mapping lives in the domain and goes with it
(or stays with a retained domain, where it names an IAM role that no longer exists and so grants
nothing), and a stack being deleted must never wait on a domain, the Secrets Manager endpoint or
security-group rules that may already be gone (the calls would hang until the function timed out,
and CloudFormation would report DELETE_FAILED).
"""

from __future__ import annotations

import base64
import json
import logging
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote

import boto3

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

SECURITY_API = "/_plugins/_security/api"
ATTEMPTS = 10
"""A fresh domain can answer 401/5xx for a few minutes while its security index initialises."""
RETRY_SECONDS = 15
TIMEOUT_SECONDS = 30


class SecurityApiError(RuntimeError):
    pass


def role_body(index_patterns: list[str], cluster_permissions: list[str], index_actions: list[str]) -> dict:
    return {
        "description": "autotagger indexer: writes image documents and installs the index template",
        "cluster_permissions": cluster_permissions,
        "index_permissions": [{"index_patterns": index_patterns, "allowed_actions": index_actions}],
    }


def _base_url(endpoint: str) -> str:
    return endpoint.rstrip("/") if "://" in endpoint else f"https://{endpoint}"


def _credentials(secret_arn: str, secrets_client: Any | None = None) -> tuple[str, str]:
    client = secrets_client or boto3.client("secretsmanager")
    secret = json.loads(client.get_secret_value(SecretId=secret_arn)["SecretString"])
    return secret["username"], secret["password"]


def _request(base_url: str, auth: tuple[str, str], method: str, path: str, body: dict | None = None,
             retry_seconds: float = RETRY_SECONDS) -> int:
    token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    data = None if body is None else json.dumps(body).encode()
    last_error = ""
    for attempt in range(1, ATTEMPTS + 1):
        request = urllib.request.Request(
            base_url + path, data=data, method=method,
            headers={"Authorization": f"Basic {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                return response.status
        except urllib.error.HTTPError as error:
            last_error = f"HTTP {error.code}: {error.read()[:500]!r}"
            if error.code not in (401, 429) and error.code < 500:
                break  # a request the API refuses will not succeed by retrying
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            last_error = str(error)
        LOG.info("%s %s failed (attempt %d/%d): %s", method, path, attempt, ATTEMPTS, last_error)
        if attempt < ATTEMPTS:
            time.sleep(retry_seconds)
    raise SecurityApiError(f"{method} {path} failed: {last_error}")


def apply(props: dict, secrets_client: Any | None = None, retry_seconds: float = RETRY_SECONDS) -> None:
    """Creates or updates the OpenSearch role and its mapping (Create and Update)."""
    base_url = _base_url(props["Endpoint"])
    auth = _credentials(props["SecretArn"], secrets_client)
    role = quote(props["RoleName"], safe="")
    role_path = f"{SECURITY_API}/roles/{role}"
    mapping_path = f"{SECURITY_API}/rolesmapping/{role}"
    body = role_body(props["IndexPatterns"], props["ClusterPermissions"], props["IndexActions"])
    _request(base_url, auth, "PUT", role_path, body, retry_seconds=retry_seconds)
    _request(base_url, auth, "PUT", mapping_path, {"backend_roles": [props["BackendRoleArn"]]},
             retry_seconds=retry_seconds)


def handler(event: dict, context: Any) -> dict:
    """Provider-framework handler: the physical id is the OpenSearch role name, so renaming the
    role makes CloudFormation delete the old one after creating the new one."""
    props = event["ResourceProperties"]
    request_type = event["RequestType"]
    LOG.info("%s role mapping %s -> %s", request_type, props["RoleName"], props["BackendRoleArn"])
    if request_type == "Delete":
        return {"PhysicalResourceId": event.get("PhysicalResourceId", props["RoleName"])}
    apply(props)
    return {"PhysicalResourceId": props["RoleName"]}
