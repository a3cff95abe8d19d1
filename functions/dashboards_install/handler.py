"""Custom resource: the deploy imports the OpenSearch Dashboards saved objects (`dashboards/*.ndjson`).

Runs in the domain's VPC (the domain has no public endpoint) as CDK's provider-framework handler.
Create and Update import every file with `overwrite=true` (`autotagger.dashboards_import`, the code of
`autotagger dashboards install`), so running it again is harmless; the stack passes the files' hash
as a property, so changed files make CloudFormation send an Update and the import runs again.
It signs in as the OpenSearch master user (Basic auth; the password is in Secrets Manager) because
Dashboards' saved objects belong to a Dashboards user, and the IAM role of this function is mapped
to no OpenSearch role.

Delete returns at once, without a network call: the saved objects live in the domain and go with it
(or stay with a retained domain), and a stack being deleted must never wait on a domain, an endpoint
or security-group rules that may already be gone.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from autotagger.dashboards_import import install
from autotagger.errors import UserError

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

SAVED_OBJECTS_DIR = Path(__file__).resolve().parent / "dashboards"
"""Where the asset carries `dashboards/*.ndjson` (cdk/constructs/search_domain.py puts them there)."""
PHYSICAL_ID = "dashboards-saved-objects"
ATTEMPTS = 8
RETRY_SECONDS = 15
REQUEST_TIMEOUT_SECONDS = 30
"""A fresh domain can refuse Dashboards requests for a few minutes while its security index and the
Dashboards index initialise: at most 8 x (30 s + 15 s) = 6 min, inside the function's 10 min."""


def master_user(secret_arn: str, secrets_client: Any | None = None) -> tuple[str, str]:
    if secrets_client is None:
        import boto3  # the Lambda runtime's

        secrets_client = boto3.client("secretsmanager")
    secret = json.loads(secrets_client.get_secret_value(SecretId=secret_arn)["SecretString"])
    return secret["username"], secret["password"]


def saved_object_files(directory: Path = SAVED_OBJECTS_DIR) -> list[Path]:
    files = sorted(directory.glob("*.ndjson"))
    if not files:
        raise UserError(f"the asset holds no saved objects: no .ndjson file in {directory}")
    return files


def import_saved_objects(endpoint: str, auth: tuple[str, str], files: list[Path], *,
                         attempts: int = ATTEMPTS, retry_seconds: float = RETRY_SECONDS) -> int:
    """Imports `files`, retrying while the domain is not ready; returns how many objects were imported."""
    for attempt in range(1, attempts + 1):
        try:
            answers = install(endpoint, files, auth=auth, timeout=REQUEST_TIMEOUT_SECONDS)
            return sum(int(answer.get("successCount", 0)) for answer in answers)
        except UserError as error:
            if attempt == attempts:
                raise
            LOG.info("import failed (attempt %d/%d), retrying: %s", attempt, attempts, error)
            time.sleep(retry_seconds)
    raise AssertionError("unreachable")


def handler(event: dict[str, Any], context: Any, *, secrets_client: Any | None = None,
            directory: Path = SAVED_OBJECTS_DIR, retry_seconds: float = RETRY_SECONDS) -> dict[str, Any]:
    if event["RequestType"] == "Delete":
        return {"PhysicalResourceId": event.get("PhysicalResourceId", PHYSICAL_ID)}
    props = event["ResourceProperties"]
    files = saved_object_files(directory)
    auth = master_user(props["SecretArn"], secrets_client)
    imported = import_saved_objects(props["Endpoint"], auth, files, retry_seconds=retry_seconds)
    LOG.info("%s: imported %d saved objects from %s", event["RequestType"], imported, [f.name for f in files])
    return {"PhysicalResourceId": PHYSICAL_ID, "Data": {"Imported": imported}}
