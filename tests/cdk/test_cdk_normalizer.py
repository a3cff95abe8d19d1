"""The Normalize Lambda as synthesized: arm64 Python 3.13 with Pillow + pillow-heif in its asset,
a role that reads originals and writes only derivatives, the workflow allowed to invoke it and to
delete derivatives, its ARN in the DefinitionSubstitutions, and its alarms."""

from __future__ import annotations

import json

from autotagger import contracts
from cdk.constructs import normalizer


def _function(synth) -> dict:
    return synth.resource(synth.stack.normalizer.function)["Properties"]


def _actions(statement: dict) -> list[str]:
    actions = statement["Action"]
    return actions if isinstance(actions, list) else [actions]


def _resource_text(statement: dict) -> str:
    return json.dumps(statement["Resource"])


def test_given_the_stack_when_synthesized_then_the_normalizer_is_arm64_python_313_with_the_measured_memory(dev):
    function = _function(dev)
    assert (function["Runtime"], function["Architectures"], function["MemorySize"], function["Timeout"]) == (
        "python3.13", ["arm64"], normalizer.MEMORY_MB, normalizer.TIMEOUT.to_seconds())
    assert function["Handler"] == "handler.handler"


def test_given_the_normalizer_asset_when_bundled_then_it_carries_pillow_heif_and_the_normalize_module_only(dev):
    code = dev.resource(dev.stack.normalizer.function)["Properties"]["Code"]
    asset = dev.outdir / f"asset.{code['S3Key'].removesuffix('.zip')}"
    assert (asset / "handler.py").is_file() and (asset / "autotagger" / "normalize" / "images.py").is_file()
    assert (asset / "PIL").is_dir() and (asset / "pillow_heif").is_dir()
    assert any(asset.glob("PIL/_avif.*.so")), "the Pillow wheel reads AVIF"
    assert not (asset / "autotagger" / "labeler").exists() and not (asset / "numpy").exists()


def test_given_the_normalizer_role_when_synthesized_then_it_reads_originals_and_writes_only_derivatives(dev):
    statements = dev.role_statements(dev.stack.normalizer.role)
    writes = [s for s in statements if "s3:PutObject" in _actions(s)]
    reads = [s for s in statements if "s3:GetObject" in _actions(s)]
    assert len(writes) == 1 and _resource_text(writes[0]).endswith(f'/{contracts.DERIVATIVES_PREFIX}*"]]}}')
    assert len(reads) == 1 and "s3:DeleteObject" not in json.dumps(statements)


def test_given_the_workflow_role_when_synthesized_then_it_invokes_the_normalizer_and_deletes_only_derivatives(dev):
    statements = dev.role_statements(dev.stack.workflow.role)
    invoke = [s for s in statements if "lambda:InvokeFunction" in _actions(s)]
    deletes = [s for s in statements if "s3:DeleteObject" in _actions(s)]
    assert invoke and invoke[0]["Resource"] == dev.arn(dev.stack.normalizer.function)
    assert len(deletes) == 1 and _resource_text(deletes[0]).endswith(f'/{contracts.DERIVATIVES_PREFIX}*"]]}}')


def test_given_the_substitutions_when_deployed_then_normalize_is_the_function_and_the_prefix_the_contract(dev):
    substitutions = dev.resource(dev.stack.workflow.state_machine)["Properties"]["DefinitionSubstitutions"]
    assert substitutions["NormalizeFunction"] == dev.arn(dev.stack.normalizer.function)
    assert substitutions["DerivativesPrefix"] == contracts.DERIVATIVES_PREFIX


def test_given_the_normalizer_when_synthesized_then_throttling_and_near_timeout_alarm(dev):
    assert {"NormalizerThrottles", "NormalizerNearTimeout"} <= set(dev.stack.alarms.alarms)
