"""The removal policy of stateful resources, chosen once by `autotagger:destroyOnRemoval`."""

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk.config import DeploymentConfig


def removal_policy(config: DeploymentConfig) -> RemovalPolicy:
    return RemovalPolicy.DESTROY if config.destroy_on_removal else RemovalPolicy.RETAIN


def log_group(scope: Construct, construct_id: str, *, config: DeploymentConfig,
              retention: logs.RetentionDays) -> logs.LogGroup:
    """A log group that `cdk destroy` keeps or deletes like the other stateful resources."""
    return logs.LogGroup(scope, construct_id, retention=retention, removal_policy=removal_policy(config))
