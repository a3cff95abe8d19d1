"""Teardown and rollback never get stuck, read from the synthesized template (both profiles).

- whatever a kept resource refers to is kept with it (or CloudFormation deletes what the kept one
  still uses: DELETE_FAILED);
- no physical name is fixed, so a second stack, or the same stack again after a destroy that kept
  its resources, can be deployed in the same account and region;
- every custom resource whose handler runs in the VPC depends on the security-group rules its
  function's traffic needs (created before it, deleted after it).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from cdk.stack import STACK_NAME

KEPT = ("Retain", "RetainExceptOnCreate")

NOT_PHYSICAL_NAMES = {
    ("AWS::IAM::Policy", "PolicyName"): "an inline policy's name is unique within its role only",
    ("AWS::ApiGateway::RestApi", "Name"): "API Gateway identifies APIs by id; names may repeat",
    ("AWS::ApiGateway::Stage", "StageName"): "unique within its API only",
    ("AWS::ApiGateway::Method", "OperationName"): "the OpenAPI operationId, a label within its API only",
    ("AWS::SNS::Topic", "DisplayName"): "a label in notifications, not an identifier",
    ("AWS::CloudWatch::Alarm", "MetricName"): "the metric watched, not the alarm's name",
}
"""Properties ending in "Name" that name no account-wide resource."""


def _references(value: Any) -> set[str]:
    """Logical ids (and pseudo parameters) `value` refers to through Ref, Fn::GetAtt and Fn::Sub."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else inner.split(".")[0])
            elif key == "Fn::Sub":
                text = inner if isinstance(inner, str) else inner[0]
                found.update(m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text))
                if isinstance(inner, list):
                    found |= _references(inner[1])
            else:
                found |= _references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _references(inner)
    return found


def _kept(resources: dict[str, dict]) -> dict[str, dict]:
    return {k: v for k, v in resources.items() if v.get("DeletionPolicy") in KEPT}


@pytest.fixture(params=["dev", "variant"])
def synthesized(request):
    return request.getfixturevalue(request.param)


def test_given_a_kept_resource_when_the_stack_is_destroyed_then_everything_it_refers_to_is_kept_too(synthesized):
    resources = synthesized.json["Resources"]
    orphaned = {
        logical_id: sorted(ref for ref in _references(resource.get("Properties", {}))
                           if ref in resources and resources[ref].get("DeletionPolicy") not in KEPT)
        for logical_id, resource in _kept(resources).items()
    }
    assert {k: v for k, v in orphaned.items() if v} == {}


def test_given_the_default_profile_when_destroyed_then_the_domain_keeps_its_subnets_security_group_and_vpc(dev):
    resources = dev.json["Resources"]
    domain = dev.resource(dev.stack.search.domain)
    assert domain["DeletionPolicy"] == "RetainExceptOnCreate"  # a failed first deploy leaves nothing behind
    vpc_options = domain["Properties"]["VPCOptions"]
    needed = _references(vpc_options) | {dev.logical_id(dev.stack.network.vpc)}
    assert needed and all(resources[n].get("DeletionPolicy") == "RetainExceptOnCreate" for n in needed)


def test_given_destroy_on_removal_when_destroyed_then_nothing_is_kept(variant):
    """The variant leaves the account's API Gateway logging role alone; with the stack's own (the
    default), that role and setting are kept on purpose: other APIs may log through them by then."""
    assert _kept(variant.json["Resources"]) == {}


def test_given_the_template_when_read_then_no_physical_name_is_fixed(synthesized):
    """A plain-string name must contain the stack's name (CDK's unique ids do); anything else is
    left to CloudFormation or built from the stack's id."""
    fixed = []
    for logical_id, resource in synthesized.json["Resources"].items():
        if resource["Type"].startswith("Custom::"):
            continue  # their properties are the handler's input, not CloudFormation names
        for key, value in resource.get("Properties", {}).items():
            if not key.endswith("Name") or (resource["Type"], key) in NOT_PHYSICAL_NAMES:
                continue
            if isinstance(value, str) and STACK_NAME not in value:
                fixed.append((logical_id, key, value))
    assert fixed == []


def test_given_the_domain_when_named_then_its_name_comes_from_the_stack_id_and_its_policy_names_the_same(dev):
    domain = dev.resource(dev.stack.search.domain)["Properties"]
    name = domain["DomainName"]
    assert {"Ref": "AWS::StackId"} in _walk(name)
    resource = domain["AccessPolicies"]["Statement"][0]["Resource"]
    assert name["Fn::Join"][1][-1] in _walk(resource)  # the same stack-id suffix


def _walk(value: Any) -> list[Any]:
    out = [value]
    if isinstance(value, dict):
        for inner in value.values():
            out += _walk(inner)
    elif isinstance(value, list):
        for inner in value:
            out += _walk(inner)
    return out


def _handler_function(resources: dict[str, dict], custom: dict) -> dict | None:
    """The Lambda function behind a custom resource: its service token's function, or the user
    function CDK's provider framework invokes."""
    token = custom["Properties"]["ServiceToken"]
    refs = [r for r in _references(token) if r in resources]
    if not refs:
        return None
    function = resources[refs[0]]
    user = function.get("Properties", {}).get("Environment", {}).get("Variables", {}).get("USER_ON_EVENT_FUNCTION_ARN")
    if user is not None:
        function = resources[next(iter(_references(user)))]
    return function


def test_given_a_custom_resource_in_the_vpc_when_deployed_or_deleted_then_it_depends_on_its_security_group_rules(
        synthesized):
    resources = synthesized.json["Resources"]
    checked = 0
    for logical_id, custom in resources.items():
        if not custom["Type"].startswith("Custom::"):
            continue
        function = _handler_function(resources, custom)
        vpc = (function or {}).get("Properties", {}).get("VpcConfig")
        if not vpc:
            continue
        groups = _references(vpc["SecurityGroupIds"])
        rules = {
            rule_id for rule_id, rule in resources.items()
            if (rule["Type"] == "AWS::EC2::SecurityGroupEgress" and _references(rule["Properties"]["GroupId"]) & groups)
            or (rule["Type"] == "AWS::EC2::SecurityGroupIngress"
                and _references(rule["Properties"].get("SourceSecurityGroupId", {})) & groups)
        }
        assert rules, f"{logical_id}: its function has no security-group rules to depend on"
        assert rules <= set(custom.get("DependsOn", [])), logical_id
        checked += 1
    assert checked == 3  # the two role mappings (indexer, read API) and the dashboards install
