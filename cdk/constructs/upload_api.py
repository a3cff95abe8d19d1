"""`PUT /v1/{bucket}/{object}`: API Gateway writes the request body straight to S3 (no Lambda).

Why each guard is where it is:
- Content types: only the accepted media types (`autotagger.contracts`) have a request template
  and the integration never passes unmapped types through, so anything else is answered 415 by
  API Gateway itself.
- Buckets: the sample let `{bucket}` name any bucket the API's role could reach. Here the
  integration role may `s3:PutObject` into the image bucket (under the configured key prefix)
  and nowhere else, so S3 denies any other `{bucket}` and the 403 is passed on to the caller:
  the refusal rests on IAM, which cannot be bypassed by a crafted path, not on a template.
- Callers: an API key in a usage plan (rate and burst limits), stage throttling, access logs.
  The rate follows the region's DetectLabels quota (cdk/quota.py): one upload is one DetectLabels call.
- Logs: access and execution logs need API Gateway's CloudWatch Logs role, a setting of the account in
  the region (AWS::ApiGateway::Account: "only one ... per region per account", or it overwrites the
  other: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-apigateway-account.html).
  `autotagger:apiGatewayAccountRole` (default true) lets the stack set it, and keeps role and setting
  when the stack goes (other APIs of the account may log through them by then); false leaves the
  account's role alone, for accounts where another stack owns it. The README says so.
"""

from __future__ import annotations

import json

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from autotagger.contracts import ACCEPTED_MEDIA_TYPES, MAX_UPLOAD_BYTES
from cdk import quota
from cdk.config import DeploymentConfig
from cdk.nag import MANAGED, Ack, acknowledge, objects_finding
from cdk.removal import log_group

STAGE_NAME = "v1"
"""The stage is the API version: the invoke URL ends in /v1/, so uploads go to
`<invoke URL>{bucket}/{object}`, the same path as the local server's `/v1/{bucket}/{object}`."""

BUCKET_PARAM = "bucket"
OBJECT_PARAM = "object"
UPLOAD_METHOD = "PUT"

UNSUPPORTED_MEDIA_TYPE_STATUS = "415"
REFUSED_BUCKET_STATUS = "403"
REQUEST_TOO_LARGE_STATUS = "413"
NO_OBJECT_STATUS = "404"
NO_API_KEY_STATUS = "401"
ANSWERS = {
    "wrong bucket": (REFUSED_BUCKET_STATUS, {"error": "forbidden",
                                             "message": "uploads are accepted into the image bucket only"}),
    "missing key": (NO_OBJECT_STATUS, {"error": "not_found",
                                       "message": "no such route (PUT /v1/{bucket}/{object} needs an object key)"}),
    "bad type": (UNSUPPORTED_MEDIA_TYPE_STATUS,
                 {"error": "unsupported_media_type",
                  "message": f"Content-Type must be one of {', '.join(ACCEPTED_MEDIA_TYPES)}"}),
    "too large": (REQUEST_TOO_LARGE_STATUS,
                  {"error": "too_large",
                   "message": f"the body is larger than {MAX_UPLOAD_BYTES} bytes, API Gateway's payload limit"}),
    "no API key": (NO_API_KEY_STATUS, {"error": "unauthorized", "message": "send a valid key in the x-api-key header"}),
}
"""The exact 4xx answers of the upload API (the README lists them; a test keeps both equal). "Missing
key" is API Gateway's MISSING_AUTHENTICATION_TOKEN response (a path no method matches: also a
wrong path), "too large" its REQUEST_TOO_LARGE (413) and "bad type" its UNSUPPORTED_MEDIA_TYPE (415)
(https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html),
"no API key" its INVALID_API_KEY (403 by default; 401 here, as the OpenAPI document declares), each
given a fixed body in the one error shape of the API (`{"error", "message"}`, the codes of
`autotagger/api/openapi.json`) instead of the default `{"message": $context.error.messageString}`.
The statuses are the document's: an unknown route (or no object key) is 404, not API Gateway's 403."""
LOG_RETENTION = logs.RetentionDays.THREE_MONTHS
INTEGRATION_TIMEOUT = Duration.seconds(29)


class UploadApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        self.rate_limit = quota.api_rate_limit(self, config)
        self.burst_limit = quota.api_burst_limit(self, config)
        self.access_logs = log_group(self, "AccessLogs", config=config, retention=LOG_RETENTION)
        self.api = apigw.RestApi(
            self, "Api",
            description="Uploads images to the autotagger image bucket (direct S3 integration).",
            binary_media_types=list(ACCEPTED_MEDIA_TYPES),  # bodies passed through as bytes
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=config.api_gateway_account_role,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE_NAME,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True, http_method=True, ip=True, protocol=True, request_time=True,
                    resource_path=True, response_length=True, status=True, user=True,
                ),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # would log request bodies: the images
                metrics_enabled=True,
                tracing_enabled=True,
                throttling_rate_limit=self.rate_limit,
                throttling_burst_limit=self.burst_limit,
            ),
        )
        self.integration_role = iam.Role(
            self, "IntegrationRole",
            # No aws:SourceAccount condition: API Gateway is not documented to send it when it
            # assumes an integration's credentials role, and a condition it never meets would
            # refuse every upload. The role's one permission is the guard.
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="Lets the upload API put objects into the image bucket, and nothing else.",
        )
        self.integration_role.add_to_policy(iam.PolicyStatement(
            actions=["s3:PutObject"],
            resources=[bucket.arn_for_objects(f"{config.key_prefix}*")],
        ))
        acknowledge(self.integration_role, Ack(
            objects_finding(bucket, config.key_prefix),
            "Uploads may create any object key (under the configured prefix) of the image bucket: the "
            "key is the client's {object}. The bucket is the only resource.",
        ))

        response_parameters = {"method.response.header.Content-Type": "integration.response.header.Content-Type"}
        integration = apigw.AwsIntegration(
            service="s3",
            integration_http_method=UPLOAD_METHOD,
            path=f"{{{BUCKET_PARAM}}}/{config.key_prefix}{{{OBJECT_PARAM}}}",
            options=apigw.IntegrationOptions(
                credentials_role=self.integration_role,
                passthrough_behavior=apigw.PassthroughBehavior.NEVER,
                content_handling=apigw.ContentHandling.CONVERT_TO_BINARY,
                timeout=INTEGRATION_TIMEOUT,
                request_parameters={
                    f"integration.request.path.{BUCKET_PARAM}": f"method.request.path.{BUCKET_PARAM}",
                    f"integration.request.path.{OBJECT_PARAM}": f"method.request.path.{OBJECT_PARAM}",
                    "integration.request.header.Content-Type": "method.request.header.Content-Type",
                },
                request_templates=dict.fromkeys(ACCEPTED_MEDIA_TYPES, "$input.body"),
                integration_responses=[
                    apigw.IntegrationResponse(status_code="200", response_parameters=response_parameters),
                    apigw.IntegrationResponse(
                        selection_pattern=REFUSED_BUCKET_STATUS, status_code=REFUSED_BUCKET_STATUS,
                        response_templates={"application/json": json.dumps(ANSWERS["wrong bucket"][1])},
                    ),
                    apigw.IntegrationResponse(selection_pattern=r"4\d{2}", status_code="400"),
                    apigw.IntegrationResponse(selection_pattern=r"5\d{2}", status_code="502"),
                ],
            ),
        )
        resource = self.api.root.add_resource(f"{{{BUCKET_PARAM}}}").add_resource(f"{{{OBJECT_PARAM}}}")
        self.method = resource.add_method(
            UPLOAD_METHOD,
            integration,
            api_key_required=True,
            request_parameters={
                f"method.request.path.{BUCKET_PARAM}": True,
                f"method.request.path.{OBJECT_PARAM}": True,
                "method.request.header.Content-Type": True,
            },
            request_validator=self.api.add_request_validator(
                "RequireParameters", validate_request_parameters=True, validate_request_body=False,
            ),
            method_responses=[
                apigw.MethodResponse(status_code=code, response_parameters=(
                    {"method.response.header.Content-Type": True} if code == "200" else None))
                for code in ("200", "400", REFUSED_BUCKET_STATUS, "502")
            ],
        )
        acknowledge(
            self.method,
            Ack("APIG4", "Callers are identified by an API key in a usage plan (the issue's contract: "
                         "curl/Postman with x-api-key), throttled per key; no user directory exists to "
                         "authorize against. IAM authorization can replace it without other changes."),
            Ack("COG4", "No Cognito user pool: uploads come from scripts and tools with an API key."),
        )
        acknowledge(
            self.api,
            Ack("APIG2", "The parameters (bucket, object, Content-Type) are validated by a request "
                         "validator; the body is an image with no JSON model to validate, and its "
                         "content type is enforced by the 415 rule (no passthrough)."),
            Ack("APIG3", "No WAF web ACL: the only method needs an API key, is throttled per key and per "
                         "stage, and writes to one bucket; a web ACL (from $5/month + $1/rule) can be "
                         "associated with the stage when the API is exposed more widely."),
        )
        if config.api_gateway_account_role:
            # `cloud_watch_role=True` creates this child; RestApi has no public accessor for it.
            acknowledge(self.api.node.find_child("CloudWatchRole"), Ack(
                f"IAM4[{MANAGED}AmazonAPIGatewayPushToCloudWatchLogs]",
                "The account-level role API Gateway needs for execution logs; AWS's policy for exactly that.",
            ))
        for construct_id, response_type, answer in (
            ("UnsupportedMediaType", apigw.ResponseType.UNSUPPORTED_MEDIA_TYPE, "bad type"),
            ("RequestTooLarge", apigw.ResponseType.REQUEST_TOO_LARGE, "too large"),
            ("MissingObjectKey", apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, "missing key"),
            ("InvalidApiKey", apigw.ResponseType.INVALID_API_KEY, "no API key"),
        ):
            status, body = ANSWERS[answer]
            self.api.add_gateway_response(construct_id, type=response_type, status_code=status,
                                          templates={"application/json": json.dumps(body)})

        self.api_key = apigw.ApiKey(
            self, "ApiKey",
            description="Key for uploading images; read its value with `aws apigateway get-api-key --include-value`.",
        )
        self.usage_plan = self.api.add_usage_plan(
            "UsagePlan",
            description="Rate and burst limits for image uploads.",
            throttle=apigw.ThrottleSettings(
                rate_limit=self.rate_limit, burst_limit=self.burst_limit
            ),
            api_stages=[apigw.UsagePlanPerApiStage(api=self.api, stage=self.api.deployment_stage)],
        )
        self.usage_plan.add_api_key(self.api_key)

    @property
    def url(self) -> str:
        return self.api.url
