"""The removal policy of stateful resources, chosen once by `autotagger:destroyOnRemoval`.

Kept resources use RETAIN_ON_UPDATE_OR_DELETE (DeletionPolicy `RetainExceptOnCreate`): `cdk destroy`
and replacements keep them, but the rollback of a failed first deploy deletes them, so a failed
first deploy leaves nothing behind that the next one would collide with
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html).
Whatever a kept resource needs is kept with it (`retain_with`); tests/cdk/test_cdk_teardown.py
checks the whole template for it.
"""

from aws_cdk import CfnResource, RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from cdk.config import DeploymentConfig


def removal_policy(config: DeploymentConfig) -> RemovalPolicy:
    return RemovalPolicy.DESTROY if config.destroy_on_removal else RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE


def retain_with(config: DeploymentConfig, *constructs: IConstruct) -> None:
    """Gives `constructs` (their CloudFormation resources) the stateful resources' removal policy."""
    for construct in constructs:
        resource = construct if isinstance(construct, CfnResource) else construct.node.default_child
        if not isinstance(resource, CfnResource):
            raise TypeError(f"{construct.node.path} has no CloudFormation resource to retain")
        resource.apply_removal_policy(removal_policy(config))


def log_group(scope: Construct, construct_id: str, *, config: DeploymentConfig,
              retention: logs.RetentionDays) -> logs.LogGroup:
    """A log group that `cdk destroy` keeps or deletes like the other stateful resources."""
    return logs.LogGroup(scope, construct_id, retention=retention, removal_policy=removal_policy(config))
