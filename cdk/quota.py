"""The upload API's rate, from the region's DetectLabels quota (`autotagger.contracts`).

Every upload is one DetectLabels call, so admitting more than the quota only turns API 429s into
throttled workflow retries (and their transitions), and admitting less leaves Rekognition idle.
The stack is environment-agnostic by default: the region is known only at deploy time, so the
rate is a CloudFormation condition on `AWS::Region` over contracts' table; with CDK_DEPLOY_REGION
set, it is the plain number. `-c autotagger:apiRateLimit=N` overrides both (a raised quota).
"""

from __future__ import annotations

from collections import defaultdict

from aws_cdk import Aws, CfnCondition, Fn, Stack, Token
from constructs import Construct

from autotagger import contracts
from cdk.config import DeploymentConfig

BURST_FACTOR = 2
"""The default burst is two seconds' worth of the rate: a client's short spike is admitted and
absorbed by the workflow's throttling Retry."""


def _by_region(scope: Construct, values: dict[str, float], default: float) -> float:
    """`values[region]` (or `default`): a number when the region is known at synth, else a token
    resolving to nested Fn::If over one condition per distinct value."""
    stack = Stack.of(scope)
    if not Token.is_unresolved(stack.region):
        return _number(values.get(stack.region, default))
    regions: dict[float, list[str]] = defaultdict(list)
    for region, value in sorted(values.items()):
        if value != default:
            regions[value].append(region)
    result: object = _number(default)
    for value, members in sorted(regions.items()):
        result = Fn.condition_if(_region_condition(stack, members).logical_id, _number(value), result)
    return Token.as_number(result)


def _region_condition(stack: Stack, members: list[str]) -> CfnCondition:
    """"AWS::Region is one of `members`", one condition per set of regions (the rate and the burst
    share them)."""
    name = "RegionIs" + "Or".join(region.replace("-", "").capitalize() for region in members)
    existing = stack.node.try_find_child(name)
    if isinstance(existing, CfnCondition):
        return existing
    equals = [Fn.condition_equals(Aws.REGION, region) for region in members]
    return CfnCondition(stack, name, expression=equals[0] if len(equals) == 1 else Fn.condition_or(*equals))


def _number(value: float) -> float:
    """Whole numbers as JSON integers (a usage plan's BurstLimit is an integer)."""
    return int(value) if float(value).is_integer() else value


def api_rate_limit(scope: Construct, config: DeploymentConfig) -> float:
    if config.api_rate_limit is not None:
        return config.api_rate_limit
    return _by_region(scope, contracts.DETECT_LABELS_TPS, contracts.DETECT_LABELS_TPS_OTHER_REGIONS)


def backfill_max_concurrency(scope: Construct, config: DeploymentConfig) -> int | str:
    """The backfill's Map Run concurrency from the same DetectLabels rate as the upload API's: a
    number when the rate is known at synth, else a token (text) resolving to the region's value."""
    if config.api_rate_limit is not None:
        return contracts.backfill_max_concurrency(config.api_rate_limit)
    by_region = {region: contracts.backfill_max_concurrency(tps) for region, tps in contracts.DETECT_LABELS_TPS.items()}
    value = _by_region(scope, by_region, contracts.backfill_max_concurrency(contracts.DETECT_LABELS_TPS_OTHER_REGIONS))
    return value if not Token.is_unresolved(value) else Token.as_string(value)


def api_burst_limit(scope: Construct, config: DeploymentConfig) -> float:
    if config.api_burst_limit is not None:
        return config.api_burst_limit
    if config.api_rate_limit is not None:
        return BURST_FACTOR * config.api_rate_limit
    burst = {region: BURST_FACTOR * tps for region, tps in contracts.DETECT_LABELS_TPS.items()}
    return _by_region(scope, burst, BURST_FACTOR * contracts.DETECT_LABELS_TPS_OTHER_REGIONS)
