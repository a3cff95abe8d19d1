"""The S3 bucket images are uploaded to, and the bucket its access logs go to.

EventBridge notifications are on because the workflow is started by EventBridge rules (not S3
notifications to a Lambda, as in the sample), which gives the rule retries and a dead-letter queue.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk.config import DeploymentConfig
from cdk.nag import LAMBDA_LOGS, acknowledge
from cdk.removal import removal_policy

INCOMPLETE_UPLOAD_DAYS = 1
"""Multipart uploads that never complete are billed storage; a day is ample to finish one."""

ACCESS_LOG_RETENTION_DAYS = 90


class ImageBucket(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig) -> None:
        super().__init__(scope, construct_id)
        policy = removal_policy(config)
        common = {
            "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
            "encryption": s3.BucketEncryption.S3_MANAGED,
            "enforce_ssl": True,
            "minimum_tls_version": 1.2,
            "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            "removal_policy": policy,
            "auto_delete_objects": config.destroy_on_removal,
        }
        self.access_logs = s3.Bucket(
            self, "AccessLogs",
            **common,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(ACCESS_LOG_RETENTION_DAYS))],
        )
        self.bucket = s3.Bucket(
            self, "Images",
            **common,
            event_bridge_enabled=True,
            versioned=False,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="images/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="AbortIncompleteMultipartUploads",
                    abort_incomplete_multipart_upload_after=Duration.days(INCOMPLETE_UPLOAD_DAYS),
                )
            ],
        )
        # `event_bridge_enabled` makes CDK add its stack-wide notifications helper function, a
        # singleton whose construct id is "BucketNotificationsHandler" + a fixed UUID.
        stack = Stack.of(self)
        for child in stack.node.children:
            if child.node.id.startswith("BucketNotificationsHandler"):
                acknowledge(child, LAMBDA_LOGS)
