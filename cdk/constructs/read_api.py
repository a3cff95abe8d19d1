"""The `/v1` read routes of `autotagger/api/openapi.json` on the upload API's REST API, served by one
Lambda (`functions/api/`).

- Routes: read from the OpenAPI document at synth (the document is the single source): every path
  and method of it becomes an API Gateway method with a Lambda proxy integration, except the upload
  path `/v1/{bucket}/{object}`, which `UploadApi` serves with its S3 integration. The document's
  `/v1` is the stage (`upload_api.STAGE_NAME`), so the resources are the paths without it. Every
  method requires the API key, so the key and usage plan of the uploads cover the reads too.
- Network: the function must reach OpenSearch, which is private to the VPC, so it runs in the VPC's
  isolated subnets like the indexer. The VPC has no NAT (`cdk/constructs/network.py`), and unlike the
  indexer this function calls AWS APIs itself: Step Functions (executions, redrive) and SQS (dead
  letters). Two interface endpoints serve those inside the VPC ("Creating Amazon VPC endpoints for
  Step Functions", https://docs.aws.amazon.com/step-functions/latest/dg/vpc-endpoints.html; "Amazon SQS
  and interface VPC endpoints", https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-internetwork-traffic-privacy.html),
  at about $0.01 per endpoint-hour per AZ: cheaper than a NAT gateway (about $0.045 per hour plus
  data) and without a path to the internet. S3 needs none: presigning is local signing, no S3 call.
  Logs, metrics (EMF in the logs) and X-Ray segments leave through the Lambda service, not the ENI.
- Permissions: exactly `functions/api/README.md`'s list, each on this stack's resources only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from autotagger import contracts
from autotagger.api.aws import DEAD_LETTER_QUEUE_URL_ENVS, IMAGE_BUCKET_ENV, STATE_MACHINE_ARN_ENV
from cdk.config import DeploymentConfig
from cdk.constructs.network import PRIVATE_SUBNETS, Network
from cdk.constructs.search_domain import SearchDomain
from cdk.constructs.upload_api import BUCKET_PARAM, INTEGRATION_TIMEOUT, OBJECT_PARAM, STAGE_NAME
from cdk.lambda_bundle import REPO_ROOT, python_function
from cdk.nag import LAMBDA_VPC, XRAY_AND_LOGS, Ack, acknowledge, objects_finding
from cdk.removal import log_group

OPENAPI_DOCUMENT = REPO_ROOT / "autotagger" / "api" / "openapi.json"
FUNCTION_DIR = REPO_ROOT / "functions" / "api"
API_BASE = f"/{STAGE_NAME}"
UPLOAD_PATH = f"{API_BASE}/{{{BUCKET_PARAM}}}/{{{OBJECT_PARAM}}}"
"""Served by `UploadApi`'s S3 integration, not by the Lambda."""
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

SERVICE_NAME = "api"
METRICS_NAMESPACE = "autotagger"
MEMORY_MB = 512
TIMEOUT = INTEGRATION_TIMEOUT
"""As long as API Gateway waits (29 s): listing three empty queues long-polls about a second each."""
LOG_RETENTION = logs.RetentionDays.THREE_MONTHS

EXECUTION_READ_ACTIONS = ("states:DescribeExecution", "states:GetExecutionHistory")
STATE_MACHINE_ACTIONS = ("states:ListExecutions", "states:StartExecution")
QUEUE_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility")
OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject")
"""A presigned URL acts with the signer's permissions: these are what the image and upload URLs may do."""

ENDPOINT_SERVICES = {
    "StepFunctions": ec2.InterfaceVpcEndpointAwsService.STEP_FUNCTIONS,
    "Sqs": ec2.InterfaceVpcEndpointAwsService.SQS,
}


def lambda_routes(document: Path = OPENAPI_DOCUMENT) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(path, METHOD, operation) of every operation of the document the Lambda serves."""
    spec = json.loads(document.read_text(encoding="utf-8"))

    def resolved(parameter: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in parameter:  # "#/components/parameters/<name>"
            node: Any = spec
            for part in parameter["$ref"].removeprefix("#/").split("/"):
                node = node[part]
            parameter = node
        return parameter

    for path, item in spec["paths"].items():
        if path == UPLOAD_PATH:
            continue
        for method in HTTP_METHODS:
            # `x-runtimes: ["local"]`: the document's local-only operations (the local dashboard's
            # counters and upload outcome) are not deployed.
            if method in item and item[method].get("x-runtimes", ["aws", "local"]) != ["local"]:
                parameters = [*item.get("parameters", []), *item[method].get("parameters", [])]
                yield path, method.upper(), {**item[method], "parameters": [resolved(p) for p in parameters]}


def resource_path(path: str) -> str:
    """The API Gateway resource of a document path: the path under the stage."""
    if not path.startswith(API_BASE + "/"):
        raise ValueError(f"{path} is not under the API's stage {API_BASE}")
    return path[len(API_BASE):]


def _request_parameters(operation: dict[str, Any]) -> dict[str, bool]:
    """`method.request.<where>.<name>: required` for the path and query parameters the document names,
    so API Gateway refuses a request missing a required one before it reaches the function."""
    where = {"path": "path", "query": "querystring"}
    return {f"method.request.{where[p['in']]}.{p['name']}": bool(p.get("required"))
            for p in operation["parameters"] if p.get("in") in where}


class ReadApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        api: apigw.RestApi,
        network: Network,
        search: SearchDomain,
        state_machine: sfn.StateMachine,
        dead_letters: Mapping[str, sqs.IQueue],
        bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.role = iam.Role(
            self, "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="The read API Lambda: reads the index, the executions and the dead letters; redrives",
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWSLambdaVPCAccessExecutionRole"),
            ],
        )
        acknowledge(self.role, LAMBDA_VPC)
        self._grant(config, state_machine, dead_letters, bucket)

        self.log_group = log_group(self, "Logs", config=config, retention=LOG_RETENTION)
        self.function = python_function(
            self, "Function",
            function_dir=FUNCTION_DIR,
            description="The /v1 read API: search, stats, executions, dead letters, upload URLs",
            role=self.role,
            memory_size=MEMORY_MB,
            timeout=TIMEOUT,
            log_group=self.log_group,
            vpc=network.vpc,
            vpc_subnets=PRIVATE_SUBNETS,
            allow_all_outbound=False,
            environment={
                # AWS_REGION is set by the Lambda runtime itself (and reserved).
                contracts.OPENSEARCH_ENDPOINT_ENV: search.endpoint_url,
                contracts.INDEX_NAME_ENV: contracts.INDEX_NAME,
                STATE_MACHINE_ARN_ENV: state_machine.state_machine_arn,
                IMAGE_BUCKET_ENV: bucket.bucket_name,
                **{DEAD_LETTER_QUEUE_URL_ENVS[name.lower()]: queue.queue_url for name, queue in dead_letters.items()},
                "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            },
        )
        # The function is traced: CDK grants the X-Ray actions on its role.
        acknowledge(self.role, XRAY_AND_LOGS)
        search.grant_read(self.role, self.function)

        self.endpoints = {
            name: ec2.InterfaceVpcEndpoint(
                self, f"{name}Endpoint",
                vpc=network.vpc,
                service=service,
                subnets=PRIVATE_SUBNETS,
                private_dns_enabled=True,  # the SDK's default endpoint names resolve to it
                open=False,  # only the read API may use it
            )
            for name, service in ENDPOINT_SERVICES.items()
        }
        for endpoint in self.endpoints.values():
            endpoint.connections.allow_default_port_from(self.function, "read API Lambda over TLS")

        self.methods = self._routes(api)
        # The invoke URL of the stage without its trailing slash: what `/images` etc. are appended to.
        self.base_url = f"https://{api.rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}{API_BASE}"

    def _grant(self, config: DeploymentConfig, state_machine: sfn.StateMachine,
               dead_letters: Mapping[str, sqs.IQueue], bucket: s3.IBucket) -> None:
        stack = Stack.of(self)
        executions = stack.format_arn(
            service="states", resource="execution",
            resource_name=f"{state_machine.state_machine_name}:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self.role.add_to_policy(iam.PolicyStatement(
            actions=list(STATE_MACHINE_ACTIONS), resources=[state_machine.state_machine_arn]))
        self.role.add_to_policy(iam.PolicyStatement(actions=list(EXECUTION_READ_ACTIONS), resources=[executions]))
        self.role.add_to_policy(iam.PolicyStatement(
            actions=list(QUEUE_ACTIONS), resources=[queue.queue_arn for queue in dead_letters.values()]))
        self.role.add_to_policy(iam.PolicyStatement(
            actions=list(OBJECT_ACTIONS), resources=[bucket.arn_for_objects(f"{config.key_prefix}*")]))
        machine_name = f"<{stack.get_logical_id(state_machine.node.default_child)}.Name>"
        acknowledge(
            self.role,
            Ack(f"IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:"
                f"{machine_name}:*]",
                "DescribeExecution and GetExecutionHistory take an execution ARN: ':*' is every execution "
                "of this one state machine, whose names are not known in advance."),
            Ack(objects_finding(bucket, config.key_prefix),
                "Image URLs (GET) and upload URLs (PUT) are presigned for any image key the client names "
                "or the index holds, under the configured prefix of the image bucket only."),
        )

    def _routes(self, api: apigw.RestApi) -> dict[tuple[str, str], apigw.Method]:
        integration = apigw.LambdaIntegration(self.function, proxy=True, timeout=INTEGRATION_TIMEOUT,
                                              allow_test_invoke=False)
        validator = api.add_request_validator(
            "ReadParameters", validate_request_parameters=True, validate_request_body=False)
        methods: dict[tuple[str, str], apigw.Method] = {}
        for path, http_method, operation in lambda_routes():
            resource = api.root.resource_for_path(resource_path(path))
            method = resource.add_method(
                http_method, integration,
                api_key_required=True,
                operation_name=operation.get("operationId"),
                request_parameters=_request_parameters(operation),
                request_validator=validator,
            )
            acknowledge(
                method,
                Ack("APIG4", "Readers are identified by the same API key and usage plan as uploads (the "
                             "dashboard's proxy and scripts send x-api-key), throttled per key; there is no "
                             "user directory to authorize against."),
                Ack("COG4", "No Cognito user pool: the read API is called by scripts, tools and the "
                            "dashboard's server-side proxy with the API key."),
            )
            methods[(path, http_method)] = method
        return methods

