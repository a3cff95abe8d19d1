"""Lambda functions for moto's Step Functions, run in-process.

moto runs `arn:aws:states:::lambda:invoke` through its Lambda backend, whose `invoke` needs Docker
(this machine has none). Inside `patch_moto_lambda({name: handler})` an invoke of one of those
functions (by name or ARN) calls the handler directly, with the same JSON in and out that Lambda
would pass, and a raised exception becomes Lambda's function error: status 200, the
`X-Amz-Function-Error: Unhandled` header and `{"errorMessage", "errorType", "stackTrace"}` as the
payload. moto's Step Functions then names the task's error after `errorType`, as Step Functions does
(https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html) and as the local
engine's `lambda_invoke_adapter` does. Any other function still goes to moto.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from autotagger.local.lambda_context import LambdaContext

LambdaHandler = Callable[[dict[str, Any], Any], Any]


def _function_name(name_or_arn: str) -> str:
    # "arn:aws:lambda:us-east-1:123456789012:function:NAME[:QUALIFIER]" or "NAME"
    parts = name_or_arn.split(":")
    return parts[6] if name_or_arn.startswith("arn:") and len(parts) > 6 else name_or_arn


@contextmanager
def patch_moto_lambda(handlers: dict[str, LambdaHandler], *, region: str, account: str,
                      memory_mb: int = 1024) -> Iterator[list[str]]:
    """Yields the list of function names invoked, in order (a test can assert a call was or was not made)."""
    from moto.awslambda.models import LambdaBackend

    original = LambdaBackend.invoke
    calls: list[str] = []

    def invoke(self, function_name: str, qualifier: str | None, body: Any, headers: Any,
               response_headers: Any) -> str | bytes | None:
        name = _function_name(function_name)
        handler = handlers.get(name)
        if handler is None:
            return original(self, function_name, qualifier, body, headers, response_headers)
        calls.append(name)
        event = json.loads(body) if body else {}
        try:
            result = json.dumps(handler(event, LambdaContext(name, region=region, account=account,
                                                          memory_limit_in_mb=memory_mb)))
        except Exception as exc:  # noqa: BLE001 - any error of the function is its answer, as in Lambda
            response_headers["x-amz-function-error"] = "Unhandled"
            result = json.dumps({"errorMessage": str(exc), "errorType": type(exc).__name__,
                                 "stackTrace": traceback.format_tb(exc.__traceback__)})
        payload = result.encode("utf-8")
        response_headers["Content-Length"] = str(len(payload))
        return payload

    with mock.patch.object(LambdaBackend, "invoke", invoke):
        yield calls
