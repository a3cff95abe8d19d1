"""Synthesizes the stack once per test session (and once per context variant), in process.

Every template test reads the same synthesized template; the settings, names and constants they
compare with are imported from `cdk/`, so the tests check the wiring, not a copy of it.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

from cdk.app import build_app, cdk_json_context  # noqa: E402
from cdk.config import CONTEXT_PREFIX  # noqa: E402
from cdk.stack import STACK_NAME, AutotaggerStack  # noqa: E402


@dataclass
class Synthesized:
    stack: AutotaggerStack
    template: Template
    outdir: Path

    @property
    def json(self) -> dict[str, Any]:
        return self.template.to_json()

    @property
    def template_file(self) -> Path:
        return self.outdir / f"{STACK_NAME}.template.json"

    def resources(self, kind: str) -> dict[str, dict]:
        return {k: v for k, v in self.json["Resources"].items() if v["Type"] == kind}

    def logical_id(self, construct) -> str:
        return self.stack.get_logical_id(construct.node.default_child)

    def ref(self, construct) -> dict:
        return {"Ref": self.logical_id(construct)}

    def arn(self, construct) -> dict:
        return {"Fn::GetAtt": [self.logical_id(construct), "Arn"]}

    def resource(self, construct) -> dict:
        return self.json["Resources"][self.logical_id(construct)]

    def role_statements(self, role) -> list[dict]:
        """Every statement of the inline policies attached to `role` (an iam.Role construct)."""
        ref = self.ref(role)
        statements = list(self.resource(role)["Properties"].get("Policies", []))
        statements = [st for p in statements for st in p["PolicyDocument"]["Statement"]]
        for policy in self.resources("AWS::IAM::Policy").values():
            if ref in policy["Properties"]["Roles"]:
                statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
        return statements

    def role_actions(self, role) -> set[str]:
        return {a for st in self.role_statements(role) for a in _as_list(st["Action"])}


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def synthesize(outdir: Path, **overrides: Any) -> Synthesized:
    context = cdk_json_context()
    context.update({CONTEXT_PREFIX + key: value for key, value in overrides.items()})
    app = build_app(App(context=context, outdir=str(outdir)))
    assembly = app.synth()  # raises if cdk-nag reports an unacknowledged finding
    stack = app.node.find_child(STACK_NAME)
    template = Template.from_json(json.loads((outdir / f"{STACK_NAME}.template.json").read_text()))
    assert assembly.get_stack_by_name(STACK_NAME) is not None
    return Synthesized(stack=stack, template=template, outdir=outdir)


@pytest.fixture(scope="session")
def dev(tmp_path_factory) -> Synthesized:
    """The stack as `cdk deploy` builds it with cdk.json's defaults (the dev profile)."""
    return synthesize(tmp_path_factory.mktemp("cdk-dev"))


@pytest.fixture(scope="session")
def variant(tmp_path_factory) -> Synthesized:
    """The prod profile with every other non-default switch: one more synth, not one per switch."""
    return synthesize(
        tmp_path_factory.mktemp("cdk-variant"),
        profile="prod",
        keyPrefix="raw-image/",
        expressWorkflow="true",
        destroyOnRemoval="true",
        streamMode="provisioned",
        streamShards="2",
        alarmEmail="ops@example.com",
        bastion="false",
        apiRateLimit="7",
        apiGatewayAccountRole="false",
        detectText="false",
    )

