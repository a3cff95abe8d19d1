"""Project-wide guarantees: no wildcard actions, no long-lived credentials, encrypted queues,
cdk-nag acknowledgements that say why, and a cdk-nag check that really fails the synth."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from aws_cdk import App
from aws_cdk import aws_iam as iam

from cdk.app import build_app, cdk_json_context
from cdk.config import CONTEXT_PREFIX
from cdk.nag import acknowledgements
from cdk.stack import STACK_NAME

POLICY_PROPERTIES = ("PolicyDocument", "KeyPolicy", "AccessPolicies", "AssumeRolePolicyDocument")


def _statements(template: dict):
    """(resource id, statement) of every policy document in the template, whatever holds it."""
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        documents = [properties[p] for p in POLICY_PROPERTIES if isinstance(properties.get(p), dict)]
        documents += [p["PolicyDocument"] for p in properties.get("Policies", [])]
        for document in documents:
            for statement in document.get("Statement", []):
                yield logical_id, statement


def _actions(statement: dict) -> list[str]:
    actions = statement.get("Action", [])
    return actions if isinstance(actions, list) else [actions]


@pytest.mark.parametrize("profile", ["dev", "variant"])
def test_given_any_profile_when_synthesized_then_no_policy_statement_allows_all_actions_of_a_service(profile, request):
    synth = request.getfixturevalue(profile)
    offending = [(rid, a) for rid, st in _statements(synth.json) if st["Effect"] == "Allow"
                 for a in _actions(st) if a == "*" or a.endswith(":*")]
    assert offending == []


def test_given_the_stack_when_synthesized_then_it_creates_no_iam_user_or_access_key(dev):
    kinds = {r["Type"] for r in dev.json["Resources"].values()}
    assert kinds & {"AWS::IAM::User", "AWS::IAM::AccessKey", "AWS::IAM::Group"} == set()


def test_given_the_template_when_synthesized_then_it_contains_no_access_key_id(dev):
    assert re.findall(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b", dev.template_file.read_text()) == []


def test_given_cdk_json_when_read_then_no_setting_holds_a_secret():
    names = [k for k in cdk_json_context() if k.startswith(CONTEXT_PREFIX)
             and re.search(r"password|secret|token|credential|accesskey", k, re.I)]
    assert names == []


def test_given_the_dead_letter_queues_when_synthesized_then_each_is_encrypted(dev):
    queues = [dev.resource(q)["Properties"] for q in dev.stack.dead_letters.all.values()]
    assert [q.get("SqsManagedSseEnabled") or "KmsMasterKeyId" in q for q in queues] == [True] * len(queues)


def test_given_the_dead_letter_queues_when_synthesized_then_each_refuses_requests_without_tls(dev):
    queue_refs = [dev.ref(q) for q in dev.stack.dead_letters.all.values()]
    policies = [p["Properties"] for p in dev.resources("AWS::SQS::QueuePolicy").values()]
    tls_only = [p["Queues"][0] for p in policies for s in p["PolicyDocument"]["Statement"]
                if s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}]
    assert sorted(map(str, tls_only)) == sorted(map(str, queue_refs))


def test_given_the_acknowledgements_when_synthesized_then_each_names_an_awssolutions_rule_and_a_reason(dev):
    acknowledgements = dev.stack.acknowledgements
    weak = [(path, ack.id) for path, ack in acknowledgements
            if not re.fullmatch(r"AwsSolutions::AwsSolutions-[A-Z]+\d+(\[.+\])?", ack.id) or len(ack.reason) < 40]
    assert (len(acknowledgements) > 0, weak) == (True, [])


@pytest.mark.parametrize("profile", ["dev", "variant"])
def test_given_the_acknowledgements_when_synthesized_then_each_is_scoped_to_a_construct_inside_the_stack(profile, request):
    """An acknowledgement on the stack (or the app) would hide the same finding on every resource."""
    synth = request.getfixturevalue(profile)
    stack_path = synth.stack.node.path
    everywhere = acknowledgements(synth.stack.node.root)
    broad = [(path, ack.id) for path, ack in everywhere if not path.startswith(stack_path + "/")]
    assert (len(everywhere), broad) == (len(synth.stack.acknowledgements), [])


def test_given_a_new_wildcard_policy_when_synthesizing_then_cdk_nag_fails_the_synth(tmp_path):
    app = build_app(App(context=cdk_json_context(), outdir=str(tmp_path)))
    stack = app.node.find_child(STACK_NAME)
    role = iam.Role(stack, "UnreviewedRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"]))
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    findings = {(v["ruleName"], c["constructPath"]) for plugin in report["pluginReports"]
                for v in plugin["violations"] for c in v["violatingConstructs"]}
    assert findings == {("AwsSolutions-IAM5[Resource::*]", f"{STACK_NAME}/UnreviewedRole/DefaultPolicy/Resource")}


def test_given_the_repository_when_scanned_then_no_file_holds_an_access_key_or_private_key():
    """Long-lived credentials have no place in the project: deployments use short-lived sessions.
    (A secret access key is 40 base64 characters; test doubles such as "x" are not credentials.)"""
    root = Path(__file__).resolve().parents[2]
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=root, capture_output=True, check=True).stdout.decode().split("\0")
    pattern = re.compile(rb"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b|-----BEGIN [A-Z ]*PRIVATE KEY-----"
                         rb"|aws_secret_access_key\W{1,5}[A-Za-z0-9/+]{40}\b")
    found = [name for name in listed if name and (root / name).is_file()
             and pattern.search((root / name).read_bytes())]
    assert found == []
