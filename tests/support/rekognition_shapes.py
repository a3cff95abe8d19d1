"""Checks an answer against Rekognition's own response shape (botocore's service model): unknown
keys, missing required members, wrong types all fail, as they would for a client reading it."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.stub import Stubber


def assert_rekognition_answer(operation: str, answer: dict[str, Any]) -> None:
    """Raises botocore's ParamValidationError (or StubResponseError) when `answer` is not a valid
    response of `operation` ("detect_text", "detect_moderation_labels", ...). No request is made:
    the client is built for the check only."""
    client = boto3.client("rekognition", region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    Stubber(client).add_response(operation, answer)
