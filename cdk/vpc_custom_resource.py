"""A custom resource whose handler runs in the VPC and calls the OpenSearch domain over HTTPS.

Two things keep `cdk destroy` and a rollback from getting stuck on such a resource:
- its handler returns at once on Delete (no network call: a stack being deleted may already have
  lost the domain, the Secrets Manager endpoint or the security-group rules on the way);
- the resource DependsOn every security-group rule its function's traffic needs (the egress rules
  of the function's group, the ingress rules that admit it elsewhere), so CloudFormation creates
  those rules first and deletes them only after the resource. Without that, a Create or Update
  running while the rules are being replaced hangs on a connection nobody will ever accept.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aws_cdk import CfnResource, CustomResource, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import custom_resources as cr
from constructs import Construct

from cdk.config import DeploymentConfig
from cdk.nag import LAMBDA_LOGS, LAMBDA_VPC, MANAGED, Ack, acknowledge
from cdk.removal import log_group


def security_group_rules(function: lambda_.Function) -> list[CfnResource]:
    """Every standalone ingress/egress rule of the stack that names one of `function`'s security
    groups (as the group it leaves from or as the source it admits)."""
    stack = Stack.of(function)

    def resolved(value: Any) -> str:
        return json.dumps(stack.resolve(value), sort_keys=True)

    groups = {resolved(g.security_group_id) for g in function.connections.security_groups}
    rules: list[CfnResource] = []
    for construct in stack.node.find_all():
        if isinstance(construct, ec2.CfnSecurityGroupEgress):
            named = construct.group_id
        elif isinstance(construct, ec2.CfnSecurityGroupIngress):
            named = construct.source_security_group_id
        else:
            continue
        if named is not None and resolved(named) in groups:
            rules.append(construct)
    return rules


class VpcCustomResource(Construct):
    """`function` (already built by the caller, in the VPC) behind CDK's provider framework, and
    the custom resource itself. Call `finish()` once every rule the function needs exists."""

    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig,
                 function: lambda_.Function, resource_type: str, properties: Mapping[str, Any],
                 log_retention: Any) -> None:
        super().__init__(scope, construct_id)
        self.function = function
        acknowledge(function, LAMBDA_VPC, Ack(
            f"IAM4[{MANAGED}AWSLambdaBasicExecutionRole]",
            "CDK's default role for a custom-resource function: logging only.",
        ))
        provider = cr.Provider(
            self, "Provider",
            on_event_handler=function,
            log_group=log_group(self, "ProviderLogs", config=config, retention=log_retention),
        )
        acknowledge(provider, LAMBDA_LOGS, Ack(
            f"IAM5[Resource::<{Stack.of(self).get_logical_id(function.node.default_child)}.Arn>:*]",
            "CDK's custom-resource framework may invoke any version of its one handler function.",
        ))
        self._provider = provider
        self._resource_type = resource_type
        self.resources: list[CustomResource] = []
        self.resource = self.add_resource("Resource", properties)

    def add_resource(self, construct_id: str, properties: Mapping[str, Any]) -> CustomResource:
        """Another resource served by the same handler (e.g. a second role mapping): one function,
        one provider, one set of rules to depend on."""
        resource = CustomResource(
            self, construct_id,
            service_token=self._provider.service_token,
            resource_type=self._resource_type,
            properties=dict(properties),
        )
        self.resources.append(resource)
        return resource

    def finish(self) -> None:
        for rule in security_group_rules(self.function):
            for resource in self.resources:
                resource.node.add_dependency(rule)

