"""cdk-nag acknowledgements: how a construct accepts an AwsSolutions finding, and the reasons
shared by several constructs.

cdk-nag v3 runs as a policy-validation plugin on every synth (see `cdk.app`): any finding not
acknowledged fails `cdk synth`. v3 removed `NagSuppressions`; a finding is acknowledged with CDK's
own `Validations.of(construct).acknowledge(...)`, which cdk-nag checks on the construct and its
ancestors (https://pypi.org/project/cdk-nag/ "Acknowledging a Rule"). Each construct under
`cdk/constructs/` acknowledges its own findings next to the resource they are about, naming the
exact finding (rule id and, for IAM rules, the action/resource/policy, cdk-nag's `applies_to`),
so a new wildcard or managed policy elsewhere still fails the synth.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct

PACK = "AwsSolutions"
_ID_PREFIX = f"{PACK}::{PACK}-"
MANAGED = "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"


@dataclass(frozen=True)
class Ack:
    rule: str
    reason: str

    @property
    def id(self) -> str:
        return f"{_ID_PREFIX}{self.rule}"


def acknowledge(construct: IConstruct, *acks: Ack) -> None:
    """Accepts the findings `acks` on `construct` (and on the resources it contains)."""
    Validations.of(construct).acknowledge(*(Acknowledgment(id=a.id, reason=a.reason) for a in acks))


def acknowledgements(scope: IConstruct) -> list[tuple[str, Ack]]:
    """(construct path, Ack) of every AwsSolutions finding acknowledged in `scope`, read back from
    the construct metadata `Validations.acknowledge` records (what cdk-nag itself reads)."""
    found: list[tuple[str, Ack]] = []
    for construct in scope.node.find_all():
        for entry in construct.node.metadata:
            if entry.type != Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                continue
            found.extend((construct.node.path, Ack(rule_id[len(_ID_PREFIX):], reason))
                         for rule_id, reason in entry.data.items() if rule_id.startswith(_ID_PREFIX))
    return found


def objects_finding(bucket: IConstruct, key_prefix: str) -> str:
    """The IAM5 finding of a grant on the objects of `bucket` under `key_prefix` ("" = all)."""
    logical_id = Stack.of(bucket).get_logical_id(bucket.node.default_child)
    return f"IAM5[Resource::<{logical_id}.Arn>/{key_prefix}*]"


# -- reasons shared by several constructs ---------------------------------------------------------

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
