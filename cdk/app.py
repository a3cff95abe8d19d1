"""Builds the CDK app: settings from context, the stack, and the cdk-nag checks on every synth."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks

from cdk.config import DeploymentConfig
from cdk.stack import STACK_NAME, AutotaggerStack

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"


def cdk_json_context() -> dict[str, Any]:
    """The context of cdk.json (feature flags and settings): the CLI passes it to `app.py`, an
    in-process App (the tests) must be given it to synthesize the same stack."""
    return json.loads(CDK_JSON.read_text(encoding="utf-8"))["context"]


def build_app(app: App | None = None) -> App:
    app = app or App()
    config = DeploymentConfig.from_context(app.node.get_all_context())
    region = os.environ.get("CDK_DEPLOY_REGION")
    AutotaggerStack(
        app, STACK_NAME,
        config=config,
        description=(
            "autotagger: automatic image tagging (API Gateway, S3, Step Functions, Rekognition, "
            "Kinesis, Lambda, OpenSearch)"
        ),
        # Environment-agnostic by default: synth never looks anything up, so it works offline.
        env=Environment(account=os.environ.get("CDK_DEPLOY_ACCOUNT"), region=region) if region else None,
    )
    # cdk-nag v3 is a policy-validation plugin: an unacknowledged finding fails the synth.
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return app
