"""The Normalize Lambda (`functions/normalize/`): an original the workflow cannot give Rekognition
as it is -> an upright JPEG under the derivatives prefix.

Invoked only by the workflow (`arn:aws:states:::lambda:invoke`), never by an event source; it
needs S3 and nothing in the VPC, so it runs outside it (the VPC has no NAT and no S3 endpoint).
Its role reads the image bucket's originals and writes only under the derivatives prefix.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from autotagger import contracts
from cdk.config import DeploymentConfig
from cdk.lambda_bundle import REPO_ROOT, python_function
from cdk.nag import XRAY_AND_LOGS, Ack, acknowledge, objects_finding
from cdk.removal import log_group

FUNCTION_DIR = REPO_ROOT / "functions" / "normalize"
MEMORY_MB = 1024
"""From bench/bench_normalize.py (peak resident memory of one normalisation, fresh process): a
12 MP HEIC 142 MB, a 40 MB camera JPEG 322 MB, the largest image the limits admit (an 89 MP PNG,
decoded in full) 579 MB; plus boto3 and the original's bytes (up to 64 MB). 1,024 MB holds the
worst case with room, and Lambda's CPU share grows with memory."""
TIMEOUT = Duration.seconds(120)
"""Under the workflow task's TimeoutSeconds (300), so a slow invocation ends as Lambda.Unknown (a
dead letter with the reason) before Step Functions gives up on it."""
LOG_RETENTION = logs.RetentionDays.THREE_MONTHS


class Normalizer(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig, bucket: s3.IBucket) -> None:
        super().__init__(scope, construct_id)
        self.log_group = log_group(self, "Logs", config=config, retention=LOG_RETENTION)
        self.role = iam.Role(
            self, "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="The Normalize Lambda: reads originals, writes derivatives under their prefix only",
        )
        self.role.add_to_policy(iam.PolicyStatement(
            actions=["s3:GetObject"], resources=[bucket.arn_for_objects(f"{config.key_prefix}*")]))
        self.role.add_to_policy(iam.PolicyStatement(
            actions=["s3:PutObject"], resources=[bucket.arn_for_objects(f"{contracts.DERIVATIVES_PREFIX}*")]))
        self.log_group.grant_write(self.role)
        self.function = python_function(
            self, "Function", function_dir=FUNCTION_DIR,
            description="Normalises an original image (HEIC, WebP, AVIF, GIF, large or rotated) to an upright JPEG",
            role=self.role, memory_size=MEMORY_MB, timeout=TIMEOUT, log_group=self.log_group)
        acknowledge(
            self.role,
            XRAY_AND_LOGS,
            Ack(objects_finding(bucket, config.key_prefix),
                "The function reads whichever original the workflow names: s3:GetObject on the image "
                "bucket's objects (under the configured key prefix) only."),
            Ack(objects_finding(bucket, contracts.DERIVATIVES_PREFIX),
                "The function writes derivatives, named by a hash of the original key, under the "
                "derivatives prefix only (s3:PutObject)."),
            Ack("IAM5[Resource::<NormalizerLogs4A0E9A2B.Arn>:*]",
                "Log streams of the function's own log group are named by Lambda at run time."),
        )
