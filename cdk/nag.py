"""cdk-nag acknowledgements: each AwsSolutions finding the design accepts, with its reason.

cdk-nag v3 runs as a policy-validation plugin on every synth (see `cdk.app`): any finding not
acknowledged here fails `cdk synth`. Each acknowledgement is scoped to the one construct it is
about and names the exact finding (rule id and, for IAM rules, the action/resource/policy), so a
new wildcard or managed policy elsewhere still fails the synth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

from cdk.constructs.search_domain import DOMAIN_NAME

if TYPE_CHECKING:
    from cdk.stack import AutotaggerStack

PACK = "AwsSolutions"
MANAGED = "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"


@dataclass(frozen=True)
class Ack:
    rule: str
    reason: str

    @property
    def id(self) -> str:
        return f"{PACK}::{PACK}-{self.rule}"


LAMBDA_LOGS = Ack(
    f"IAM4[{MANAGED}AWSLambdaBasicExecutionRole]",
    "AWS's policy for Lambda logging (CreateLogGroup/CreateLogStream/PutLogEvents); on CDK's own "
    "helper functions, whose roles CDK creates.",
)
LAMBDA_VPC = Ack(
    f"IAM4[{MANAGED}AWSLambdaVPCAccessExecutionRole]",
    "AWS's policy for a Lambda function in a VPC: the ENI actions (which take no resource ARN) "
    "plus logging; the function must run in the VPC to reach the private OpenSearch domain.",
)
XRAY_AND_LOGS = Ack(
    "IAM5[Resource::*]",
    "X-Ray PutTraceSegments/PutTelemetryRecords/GetSampling* and the CloudWatch Logs delivery "
    "actions take no resource ARN: '*' is the only valid resource for them.",
)


def _recorder(acknowledged: list[tuple[str, Ack]]):
    def _ack(construct: IConstruct, *acks: Ack) -> None:
        Validations.of(construct).acknowledge(*(Acknowledgment(id=a.id, reason=a.reason) for a in acks))
        acknowledged.extend((construct.node.path, a) for a in acks)

    return _ack


def _objects_of(bucket_logical: str) -> str:
    return f"IAM5[Resource::<{bucket_logical}.Arn>/*]"


def acknowledge(stack: "AutotaggerStack") -> list[tuple[str, Ack]]:
    """Acknowledges the accepted findings of `stack`; returns (construct path, Ack) pairs."""
    acknowledged: list[tuple[str, Ack]] = []
    _ack = _recorder(acknowledged)
    bucket_objects = _objects_of(stack.get_logical_id(stack.storage.bucket.node.default_child))

    # --- Upload API -----------------------------------------------------------------------------
    api = stack.upload_api
    _ack(api.integration_role, Ack(
        bucket_objects if not stack.config.key_prefix else f"{bucket_objects[:-2]}{stack.config.key_prefix}*]",
        "Uploads may create any object key (under the configured prefix) of the image bucket: the "
        "key is the client's {object}. The bucket is the only resource.",
    ))
    _ack(api.method,
         Ack("APIG4", "Callers are identified by an API key in a usage plan (the issue's contract: "
                      "curl/Postman with x-api-key), throttled per key; no user directory exists to "
                      "authorize against. IAM authorization can replace it without other changes."),
         Ack("COG4", "No Cognito user pool: uploads come from scripts and tools with an API key."))
    _ack(api.api,
         Ack("APIG2", "The parameters (bucket, object, Content-Type) are validated by a request "
                      "validator; the body is an image with no JSON model to validate, and its "
                      "content type is enforced by the 415 rule (no passthrough)."),
         Ack("APIG3", "No WAF web ACL: the only method needs an API key, is throttled per key and per "
                      "stage, and writes to one bucket; a web ACL (from $5/month + $1/rule) can be "
                      "associated with the stage when the API is exposed more widely."))
    cloudwatch_role = api.api.node.try_find_child("CloudWatchRole")
    _ack(cloudwatch_role, Ack(
        f"IAM4[{MANAGED}AmazonAPIGatewayPushToCloudWatchLogs]",
        "The account-level role API Gateway needs for execution logs; AWS's policy for exactly that.",
    ))

    # --- Workflow ------------------------------------------------------------------------------
    workflow_role = stack.workflow.role
    _ack(workflow_role,
         Ack(bucket_objects if not stack.config.key_prefix else f"{bucket_objects[:-2]}{stack.config.key_prefix}*]",
             "Rekognition reads whichever object the event names, with the workflow's permissions: "
             "s3:GetObject on the image bucket's objects only."),
         Ack("IAM5[Resource::*]",
             "rekognition:DetectLabels has no resource-level permissions (Service Authorization "
             "Reference), and the X-Ray and CloudWatch Logs delivery actions of a traced, logged "
             "state machine take no resource ARN either."))

    # --- Dead-letter queues ---------------------------------------------------------------------
    for queue in stack.dead_letters.all.values():
        _ack(queue, Ack("SQS3", "This queue is itself a dead-letter queue (of the workflow, the "
                                "EventBridge target or the Kinesis event source): it has no DLQ of its own."))

    # --- Network and bastion --------------------------------------------------------------------
    bastion = stack.network.bastion
    if bastion is not None:
        _ack(bastion.role,
             Ack("IAM5[Resource::*]", "The Session Manager agent actions (ssm:UpdateInstanceInformation, "
                                      "ssmmessages:*Channel) take no resource ARN."))
        _ack(bastion,
             Ack("EC28", "A t4g.nano used only as a port-forwarding hop: basic monitoring is enough."),
             Ack("EC29", "Stateless and rebuilt by the stack at will: termination protection would "
                         "only make `cdk destroy` fail."))

    # --- OpenSearch -----------------------------------------------------------------------------
    search = stack.search
    domain_paths = f"IAM5[Resource::arn:<AWS::Partition>:es:<AWS::Region>:<AWS::AccountId>:domain/{DOMAIN_NAME}/*]"
    _ack(stack.indexer_role,
         Ack(domain_paths, "es:ESHttp* actions are authorized per HTTP path: '/*' means the paths of "
                           "this one domain; fine-grained access control limits the role further to "
                           "the image index (role mapping)."),
         XRAY_AND_LOGS,
         LAMBDA_VPC)
    _ack(search.domain,
         Ack("OS3", "The domain is in a VPC: IP allowlists do not apply to VPC domains; its security "
                    "group admits only the indexer, the role mapper and the bastion."),
         Ack("OS5", "Fine-grained access control authenticates every request (SigV4 for the indexer, "
                    "the internal master user for Dashboards logins, which cannot be SigV4-signed); "
                    "the open access policy is AWS's documented pairing with FGAC, inside the VPC."))
    if not stack.config.is_prod:
        _ack(search.domain,
             Ack("OS4", "dev profile: one small data node to keep the cost down; the prod profile "
                        "(-c autotagger:profile=prod) adds three dedicated master nodes."),
             Ack("OS7", "dev profile: a single node cannot be zone-aware; the prod profile spreads "
                        "nodes over two AZs with zone awareness."))
    _ack(search.master_user, Ack(
        "SMG4", "The OpenSearch master password cannot be rotated by a Secrets Manager rotation "
                "function without changing the domain; rotate it by updating the domain (see "
                "README) when a person who knew it leaves.",
    ))
    mapper = search.node.find_child("RoleMapper")
    _ack(mapper, LAMBDA_VPC, Ack(
        f"IAM4[{MANAGED}AWSLambdaBasicExecutionRole]",
        "CDK's default role for the role-mapper function: logging only.",
    ))
    provider = search.node.find_child("RoleMapperProvider")
    mapper_logical = stack.get_logical_id(mapper.node.default_child)
    _ack(provider, LAMBDA_LOGS, Ack(
        f"IAM5[Resource::<{mapper_logical}.Arn>:*]",
        "CDK's custom-resource framework may invoke any version of the one role-mapper function.",
    ))

    # --- Indexer ---------------------------------------------------------------------------------
    _ack(stack.indexer.function, Ack(
        "L1", "Python 3.13 on purpose: the Lambda asset's wheels are fetched for cp313 and the "
              "project supports it; moving to 3.14 is one constant (cdk/indexer_bundle.py).",
    ))

    # --- CDK's own helper functions ---------------------------------------------------------------
    for child in stack.node.children:
        if child.node.id.startswith("BucketNotificationsHandler"):
            _ack(child, LAMBDA_LOGS)
    return acknowledged
