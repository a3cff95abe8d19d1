"""moto's Step Functions made to run the tagging workflow as Step Functions does.

Three differences matter to the workflow, and each has a patch here:

* Lambda. moto runs `arn:aws:states:::lambda:invoke` through its Lambda backend, whose `invoke` needs Docker
(this machine has none). Inside `patch_moto_lambda({name: handler})` an invoke of one of those
functions (by name or ARN) calls the handler directly, with the same JSON in and out that Lambda
would pass, and a raised exception becomes Lambda's function error: status 200, the
`X-Amz-Function-Error: Unhandled` header and `{"errorMessage", "errorType", "stackTrace"}` as the
payload. moto's Step Functions then names the task's error after `errorType`, as Step Functions does
(https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html) and as the local
engine's `lambda_invoke_adapter` does. Any other function still goes to moto.
* Error names. Step Functions names an AWS SDK integration's error after the service and the
  exception, `Rekognition.InvalidImageFormatException`
  (https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html, "Handling
  errors"); moto writes the service in lower case (`rekognition.InvalidImageFormatException`) for
  all but a few services, so a Catch or Retry on the real name never matches.
* Endpoints. moto's Step Functions calls the services through boto3 clients, which honour
  `AWS_ENDPOINT_URL_S3`; tests that point the API Lambda's presigned URLs at a loopback S3 with that
  variable would send the workflow's own S3 calls there too. Its clients keep AWS's endpoint.
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


_SDK_SERVICE_NAMES = {"rekognition": "Rekognition", "kinesis": "Kinesis", "s3": "S3"}
"""The services the workflow calls through `arn:aws:states:::aws-sdk:*`, spelled as Step Functions does."""


@contextmanager
def patch_moto_step_functions() -> Iterator[None]:
    """The error names and endpoints of moto's Step Functions as AWS's (see the module docstring)."""
    import boto3
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_aws_sdk
    from moto.stepfunctions.parser.asl.utils import boto_client

    class _Boto3:
        @staticmethod
        def client(*args: Any, **kwargs: Any) -> Any:
            if kwargs.get("service_name") == "s3" and "endpoint_url" not in kwargs:
                kwargs["endpoint_url"] = f"https://s3.{kwargs.get('region_name') or 'us-east-1'}.amazonaws.com"
            return boto3.client(*args, **kwargs)

    with mock.patch.dict(state_task_service_aws_sdk._SERVICE_ERROR_NAMES, _SDK_SERVICE_NAMES), \
            mock.patch.object(boto_client, "boto3", _Boto3):
        yield


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
