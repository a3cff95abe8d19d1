"""The REST API under `/v1`, one description and one implementation for both runtimes.

* `openapi.json` (next to this file) is the single OpenAPI 3.1 document: served at `/openapi.json`
  by the local server and exported for API Gateway.
* `service.ReadApi` implements the read routes over ports (plain Python): the FastAPI app and the
  Lambda (`functions/api/handler.py`) both call it, so parameters, answers and errors are the same.
* `aws` holds the boto3 adapters behind those ports (Step Functions, SQS, S3).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

OPENAPI_PATH = Path(__file__).with_name("openapi.json")


@lru_cache(maxsize=1)
def _document_text() -> str:
    return OPENAPI_PATH.read_text(encoding="utf-8")


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document (a fresh copy: callers may add servers or security for their runtime)."""
    return json.loads(_document_text())
