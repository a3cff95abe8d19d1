"""Deployment settings, read from the `autotagger:*` context keys of cdk.json (or `-c key=value`).

Every knob has its default here and the same value in cdk.json, where a user looks first; a test
keeps the two equal. Nothing secret belongs in context: context ends up in cdk.out and in git.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from autotagger import contracts

CONTEXT_PREFIX = "autotagger:"
"""Every setting is a context key `autotagger:<name>`, so `cdk deploy -c autotagger:profile=prod`
overrides one value without repeating the others."""

PROFILES = ("dev", "prod")
STREAM_MODES = ("on-demand", "provisioned")

REKOGNITION_DETECT_LABELS_TPS = int(contracts.DETECT_LABELS_TPS["us-east-1"])
"""Rekognition's default DetectLabels quota in us-east-1 (smaller in most other regions; the stack's
default API rate follows the deployment region's, see cdk/quota.py)."""
FOLLOW_REGION = ""
"""The value of apiRateLimit/apiBurstLimit that means "the deployment region's DetectLabels quota"."""

DEFAULTS: dict[str, Any] = {
    # "dev": one small OpenSearch node in one AZ; "prod": three AZs, zone awareness, three dedicated masters.
    "profile": "dev",
    # true: `cdk destroy` deletes the buckets (and their objects), queues, stream and domain.
    # false: they are retained, so a mistaken destroy loses no images or index.
    "destroyOnRemoval": False,
    # true: Express workflows (cheaper at high volume, no redrive, logs instead of history).
    "expressWorkflow": False,
    # Only keys under this prefix start the workflow ("" = every key of the image bucket).
    "keyPrefix": "",
    # DetectLabels parameters, with the local runtime's defaults (autotagger.contracts).
    "maxLabels": contracts.DEFAULT_MAX_LABELS,
    "minConfidence": contracts.DEFAULT_MIN_CONFIDENCE,
    # The optional analyses beside DetectLabels (contracts.OPTIONAL_ANALYSES): DetectText and
    # DetectModerationLabels, each one more Rekognition call per image (README, "What it costs").
    contracts.ANALYSIS_CONTEXT_KEYS["text"]: True,
    contracts.ANALYSIS_CONTEXT_KEYS["moderation"]: True,
    # Kinesis capacity mode; "provisioned" uses `streamShards` shards (cheaper when idle).
    "streamMode": "on-demand",
    "streamShards": 1,
    # Upload API usage plan and stage: steady requests per second and burst, per API key. "" = the
    # deployment region's default DetectLabels quota (contracts.DETECT_LABELS_TPS) and twice it; a
    # number overrides it (after Rekognition raised your quota).
    "apiRateLimit": FOLLOW_REGION,
    "apiBurstLimit": FOLLOW_REGION,
    # true: the stack sets API Gateway's account-wide CloudWatch Logs role of the region (one per
    # account and region, which another stack may own); false: the stage logs through the role the
    # account already has (the deploy fails if it has none).
    "apiGatewayAccountRole": True,
    # Alarm notifications go to an SNS topic; an address here subscribes it by e-mail.
    "alarmEmail": "",
    # The OpenSearch data node type of each profile (check availability in your region with
    # `aws opensearch list-instance-type-details --engine-version OpenSearch_3.3`).
    "devInstanceType": "t3.small.search",
    "prodInstanceType": "r7g.large.search",
    "prodMasterInstanceType": "m7g.large.search",
    "volumeSizeGiB": 10,
    # A t4g.nano with no inbound ports, for SSM port forwarding to OpenSearch Dashboards.
    "bastion": True,
}


class ConfigError(ValueError):
    """A context value that would synthesize a broken or insecure stack."""


@dataclass(frozen=True)
class DeploymentConfig:
    profile: str
    destroy_on_removal: bool
    express_workflow: bool
    key_prefix: str
    max_labels: int
    min_confidence: float
    detect_text: bool
    detect_moderation: bool
    stream_mode: str
    stream_shards: int
    api_rate_limit: int | None
    api_burst_limit: int | None
    api_gateway_account_role: bool
    alarm_email: str
    dev_instance_type: str
    prod_instance_type: str
    prod_master_instance_type: str
    volume_size_gib: int
    bastion: bool

    @property
    def is_prod(self) -> bool:
        return self.profile == "prod"

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> DeploymentConfig:
        """`context` is the whole CDK context; only the `autotagger:` keys are read, and a
        misspelt one is an error rather than a silently ignored setting."""
        ours = {k[len(CONTEXT_PREFIX):]: v for k, v in context.items() if k.startswith(CONTEXT_PREFIX)}
        unknown = set(ours) - set(DEFAULTS)
        if unknown:
            names = ", ".join(CONTEXT_PREFIX + name for name in sorted(unknown))
            raise ConfigError(f"unknown context keys: {names}")
        values = {**DEFAULTS, **ours}
        config = cls(
            profile=str(values["profile"]),
            destroy_on_removal=_flag(values, "destroyOnRemoval"),
            express_workflow=_flag(values, "expressWorkflow"),
            key_prefix=str(values["keyPrefix"]),
            max_labels=int(values["maxLabels"]),
            min_confidence=float(values["minConfidence"]),
            detect_text=_flag(values, contracts.ANALYSIS_CONTEXT_KEYS["text"]),
            detect_moderation=_flag(values, contracts.ANALYSIS_CONTEXT_KEYS["moderation"]),
            stream_mode=str(values["streamMode"]),
            stream_shards=int(values["streamShards"]),
            api_rate_limit=_optional_int(values, "apiRateLimit"),
            api_burst_limit=_optional_int(values, "apiBurstLimit"),
            api_gateway_account_role=_flag(values, "apiGatewayAccountRole"),
            alarm_email=str(values["alarmEmail"]),
            dev_instance_type=str(values["devInstanceType"]),
            prod_instance_type=str(values["prodInstanceType"]),
            prod_master_instance_type=str(values["prodMasterInstanceType"]),
            volume_size_gib=int(values["volumeSizeGiB"]),
            bastion=_flag(values, "bastion"),
        )
        config._validate()
        return config

    def _validate(self) -> None:
        if self.profile not in PROFILES:
            raise ConfigError(f"profile must be one of {PROFILES}, not {self.profile!r}")
        if self.stream_mode not in STREAM_MODES:
            raise ConfigError(f"streamMode must be one of {STREAM_MODES}, not {self.stream_mode!r}")
        low, high = contracts.MAX_LABELS_RANGE
        if not low <= self.max_labels <= high:
            raise ConfigError(f"maxLabels must be between {low} and {high}, not {self.max_labels}")
        low, high = contracts.MIN_CONFIDENCE_RANGE
        if not low <= self.min_confidence <= high:
            raise ConfigError(f"minConfidence must be between {low:g} and {high:g}, not {self.min_confidence}")
        if self.api_rate_limit is not None and self.api_rate_limit < 1:
            raise ConfigError("apiRateLimit must be at least 1 (or empty: the region's DetectLabels quota)")
        if self.api_burst_limit is not None and self.api_burst_limit < (self.api_rate_limit or 1):
            raise ConfigError("apiBurstLimit must be at least apiRateLimit")
        if self.stream_shards < 1:
            raise ConfigError("streamShards must be at least 1")
        if self.key_prefix.startswith("/"):
            raise ConfigError("keyPrefix is an S3 key prefix and never starts with '/'")


def _optional_int(values: Mapping[str, Any], key: str) -> int | None:
    value = values[key]
    if value is None or str(value).strip() == FOLLOW_REGION:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key} must be a whole number of requests per second, not {value!r}") from None


def _flag(values: Mapping[str, Any], key: str) -> bool:
    """Context from `-c key=false` arrives as the string "false": read it as the boolean meant."""
    value = values[key]
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no", ""):
        return False
    raise ConfigError(f"{key} must be true or false, not {value!r}")
