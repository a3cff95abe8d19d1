"""Task adapters that call real AWS services (or moto) through boto3, named as Step Functions names them.

`arn:aws:states:::aws-sdk:<service>:<action>` calls `<action>` (camelCase → the boto3 snake_case
method) with the PascalCase parameters as given; a service error becomes `<Service>.<Code>`
(`Rekognition.InvalidS3ObjectException`), with `Exception` appended to codes that lack it as the
Java SDK class names Step Functions uses do (`S3.NoSuchKeyException`). Errors raised before the
request reaches the service (bad parameters, no connection) are `<Service>.SdkClientException`.
`arn:aws:states:::sqs:sendMessage` is the optimized SQS integration (errors
`SQS.AmazonSQSException`). A distributed Map's `arn:aws:states:::s3:listObjectsV2` item reader
and `arn:aws:states:::s3:putObject` result writer are the S3 calls they name.
`arn:aws:states:::states:startExecution.sync:2` starts a (deployed, or moto's) state machine's
execution and waits for its end by DescribeExecution, as the optimized integration does.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import threading
import time
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from autotagger.errors import ServiceError

from .registry import TaskRegistry

AWS_SDK_PREFIX = "arn:aws:states:::aws-sdk:"
SQS_SEND_MESSAGE = "arn:aws:states:::sqs:sendMessage"
START_EXECUTION_SYNC = "arn:aws:states:::states:startExecution.sync:2"
# The distributed Map's item reader and result writer: plain S3 calls (distributed_map.py pages and shapes them).
S3_MAP_RESOURCES = {"arn:aws:states:::s3:listObjectsV2": "listObjectsV2", "arn:aws:states:::s3:putObject": "putObject"}

# aws-sdk service names whose boto3 client name differs
_BOTO3_NAMES = {"sfn": "stepfunctions", "cloudwatchlogs": "logs", "apigateway": "apigateway"}
# the service prefix Step Functions gives errors where it is not the botocore service id
_ERROR_PREFIXES = {"dynamodb": "DynamoDb", "sfn": "Sfn"}

ClientFactory = Callable[[str], Any]


def _default_client_factory(region: str | None = None, endpoint_url: str | None = None) -> ClientFactory:
    import boto3

    session = boto3.session.Session(region_name=region)
    clients: dict[str, Any] = {}
    lock = threading.Lock()  # boto3 clients are thread-safe, creating them from a session is not

    def client(service: str) -> Any:
        if service not in clients:
            with lock:
                if service not in clients:
                    clients[service] = session.client(service, endpoint_url=endpoint_url)
        return clients[service]

    return client


def _json_safe(value: Any) -> Any:
    """boto3 answers with datetimes, bytes and Decimals; a task result must be JSON."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if hasattr(value, "read"):  # StreamingBody
        return _json_safe(value.read())
    return value


class AwsSdkTask:
    """`arn:aws:states:::aws-sdk:<service>:<action>` as a boto3 call."""

    def __init__(self, resource: str, clients: ClientFactory):
        if not resource.startswith(AWS_SDK_PREFIX):
            raise ValueError(f"{resource} is not an aws-sdk integration ARN")
        service, _, action = resource[len(AWS_SDK_PREFIX):].partition(":")
        if not service or not action or "." in action:
            raise ValueError(
                f"{resource}: expected arn:aws:states:::aws-sdk:<service>:<action> (no .sync/.waitForTaskToken)"
            )
        from botocore import xform_name

        self.service = service
        self.action = action
        self.method = xform_name(action[0].upper() + action[1:])
        self._clients = clients
        self._prefix: str | None = _ERROR_PREFIXES.get(service)

    def _error_prefix(self, client: Any) -> str:
        if self._prefix is None:
            self._prefix = client.meta.service_model.service_id.replace(" ", "")
        return self._prefix

    def __call__(self, parameters: dict[str, Any]) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        client = self._clients(_BOTO3_NAMES.get(self.service, self.service))
        prefix = self._error_prefix(client)
        try:
            method = getattr(client, self.method)
        except AttributeError:
            raise ServiceError(
                f"{self.service} has no action {self.action}", service=prefix, code="SdkClientException"
            ) from None
        try:
            response = method(**parameters)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = error.get("Code") or "UnknownError"
            if not code.endswith("Exception"):
                code += "Exception"
            meta = exc.response.get("ResponseMetadata", {})
            cause = (f"{error.get('Message', '')} (Service: {prefix}, Status Code: {meta.get('HTTPStatusCode')}, "
                     f"Request ID: {meta.get('RequestId')})")
            raise ServiceError(cause, service=prefix, code=code) from None
        except (BotoCoreError, TypeError, ValueError) as exc:
            raise ServiceError(str(exc), service=prefix, code="SdkClientException") from None
        result: dict[str, Any] = _json_safe(response)  # boto3 answers every call with an object
        return result


class SqsSendMessageTask:
    """The optimized `sqs:sendMessage` integration: a JSON MessageBody is sent as its JSON text."""

    _FIELDS = {
        "QueueUrl",
        "MessageBody",
        "DelaySeconds",
        "MessageAttributes",
        "MessageDeduplicationId",
        "MessageGroupId",
    }

    def __init__(self, clients: ClientFactory):
        self._clients = clients

    def __call__(self, parameters: dict[str, Any]) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        unknown = set(parameters) - self._FIELDS
        if unknown:
            raise ServiceError(
                f"unsupported sendMessage parameter(s) {sorted(unknown)}", service="SQS", code="SdkClientException"
            )
        request = dict(parameters)
        if not isinstance(request.get("MessageBody"), str):
            request["MessageBody"] = json.dumps(request.get("MessageBody"), separators=(",", ":"), ensure_ascii=False)
        try:
            response = self._clients("sqs").send_message(**request)
        except ClientError as exc:
            raise ServiceError(
                exc.response.get("Error", {}).get("Message", str(exc)), service="SQS", code="AmazonSQSException"
            ) from None
        except (BotoCoreError, TypeError, ValueError) as exc:
            raise ServiceError(str(exc), service="SQS", code="SdkClientException") from None
        return {
            k: v
            for k, v in _json_safe(response).items()
            if k in ("MD5OfMessageBody", "MD5OfMessageAttributes", "MessageId", "SequenceNumber")
        }


class StartExecutionSyncTask:
    """`startExecution.sync:2`: StartExecution, then DescribeExecution every `poll_s` seconds until
    the execution ends. A success answers DescribeExecution with Input and Output as JSON (`:2`);
    anything else fails the task with States.TaskFailed and that answer as the cause, and API
    errors are `StepFunctions.<code>` (ExecutionAlreadyExists, ...), as Step Functions names them
    (https://docs.aws.amazon.com/step-functions/latest/dg/connect-stepfunctions.html)."""

    def __init__(self, clients: ClientFactory, *, poll_s: float = 1.0, sleep: Callable[[float], None] = time.sleep):
        self._clients, self._poll_s, self._sleep = clients, poll_s, sleep

    def __call__(self, parameters: dict[str, Any]) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        client = self._clients("stepfunctions")
        given = parameters.get("Input", {})
        request = {"stateMachineArn": parameters.get("StateMachineArn"),
                   "input": given if isinstance(given, str) else json.dumps(given)}
        if parameters.get("Name") is not None:
            request["name"] = parameters["Name"]
        try:
            arn = client.start_execution(**request)["executionArn"]
            while (described := client.describe_execution(executionArn=arn))["status"] == "RUNNING":
                self._sleep(self._poll_s)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise ServiceError(error.get("Message", str(exc)), service="StepFunctions",
                               code=error.get("Code") or "UnknownError") from None
        except (BotoCoreError, TypeError, ValueError) as exc:
            raise ServiceError(str(exc), service="StepFunctions", code="SdkClientException") from None
        answer = {key[0].upper() + key[1:]: value for key, value in _json_safe(described).items()}
        for name in ("Input", "Output"):
            if isinstance(answer.get(name), str):
                answer[name] = json.loads(answer[name])
        if answer["Status"] != "SUCCEEDED":
            raise ServiceError(json.dumps(answer, default=str), service="States", code="TaskFailed")
        return answer


def adapter_for(resource: str, clients: ClientFactory) -> Callable[[dict[str, Any]], dict[str, Any]]:
    if resource == SQS_SEND_MESSAGE:
        return SqsSendMessageTask(clients)
    if resource == START_EXECUTION_SYNC:
        return StartExecutionSyncTask(clients)
    if resource.startswith(AWS_SDK_PREFIX):
        return AwsSdkTask(resource, clients)
    if resource in S3_MAP_RESOURCES:
        return AwsSdkTask(f"{AWS_SDK_PREFIX}s3:{S3_MAP_RESOURCES[resource]}", clients)
    raise ValueError(
        f"no AWS adapter for {resource}: only aws-sdk:<service>:<action>, sqs:sendMessage, "
        "states:startExecution.sync:2 and a distributed Map's s3:listObjectsV2/s3:putObject are supported"
    )


def aws_registry(
    resources: Iterable[str],
    *,
    clients: ClientFactory | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    registry: TaskRegistry | None = None,
) -> TaskRegistry:
    """Registers AWS adapters for `resources` (e.g. `StateMachine.resources`) and returns the registry.

    Pass `registry` to add them to one that already holds local adapters (hybrid runs).
    """
    clients = clients or _default_client_factory(region, endpoint_url)
    registry = registry if registry is not None else TaskRegistry()
    for resource in sorted(resources):
        registry.register(resource, adapter_for(resource, clients))
    return registry
