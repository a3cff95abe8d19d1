"""The removal policy of stateful resources, chosen once by `autotagger:destroyOnRemoval`."""

from aws_cdk import RemovalPolicy

from cdk.config import DeploymentConfig


def removal_policy(config: DeploymentConfig) -> RemovalPolicy:
    return RemovalPolicy.DESTROY if config.destroy_on_removal else RemovalPolicy.RETAIN
