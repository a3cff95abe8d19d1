"""Imports OpenSearch Dashboards saved objects (`dashboards/*.ndjson`): the one implementation
behind `autotagger dashboards install` and the deploy's dashboards-install custom resource
(`functions/dashboards_install/`).

`POST <endpoint>/api/saved_objects/_import?overwrite=true` with the `osd-xsrf: true` header, one
file per request. `overwrite=true` makes the import idempotent: the objects keep their ids and are
replaced. A domain endpoint of Amazon OpenSearch Service without a path gets OpenSearch Dashboards'
`/_dashboards` prefix. Needs only `requests` (and an `auth` the caller builds: SigV4, or the
master user's name and password), so the custom resource's asset stays small.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from autotagger.errors import UserError

IMPORT_PATH = "/api/saved_objects/_import"


def import_url(endpoint: str) -> str:
    parts = urlsplit(endpoint.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UserError(f"--endpoint must be an http(s) URL, not {endpoint!r}")
    path = parts.path.rstrip("/")
    if not path and parts.hostname and parts.hostname.endswith(".amazonaws.com"):
        path = "/_dashboards"  # Amazon OpenSearch Service serves Dashboards under this prefix
    return f"{parts.scheme}://{parts.netloc}{path}{IMPORT_PATH}"


def install(endpoint: str, files: list[Path], *, auth: Any = None, timeout: float = 30.0) -> list[dict]:
    """Imports each file; returns the API's answers. Raises UserError when an import fails."""
    import requests

    url = import_url(endpoint)
    answers = []
    for path in files:
        try:
            response = requests.post(
                url, params={"overwrite": "true"}, headers={"osd-xsrf": "true"}, auth=auth, timeout=timeout,
                files={"file": (path.name, path.read_bytes(), "application/ndjson")},
            )
        except requests.RequestException as exc:
            raise UserError(f"cannot reach {url}: {exc}") from None
        try:
            answer = response.json()
        except ValueError:
            answer = {"success": False, "errors": [{"error": {"message": response.text[:500]}}]}
        if response.status_code != 200 or not answer.get("success"):
            raise UserError(f"importing {path.name} into {url} failed (HTTP {response.status_code}): {_errors(answer)}")
        answers.append({"file": str(path), **answer})
    return answers


def _errors(answer: dict) -> str:
    errors = answer.get("errors") or []
    if not errors:
        return answer.get("message") or json.dumps(answer)[:500]
    return "; ".join(f"{e.get('type', '?')} {e.get('id', '?')}: {json.dumps(e.get('error', {}))}" for e in errors)
