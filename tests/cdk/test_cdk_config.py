"""Deployment settings from context: documented defaults, and refusals of bad values."""

from __future__ import annotations

import pytest

from cdk.app import cdk_json_context
from cdk.config import CONTEXT_PREFIX, DEFAULTS, ConfigError, DeploymentConfig


def test_given_cdk_json_when_read_then_it_documents_every_setting_with_its_default():
    ours = {k[len(CONTEXT_PREFIX):]: v for k, v in cdk_json_context().items() if k.startswith(CONTEXT_PREFIX)}
    assert ours == DEFAULTS


def test_given_no_context_when_read_then_the_defaults_apply():
    assert DeploymentConfig.from_context({}) == DeploymentConfig.from_context(
        {CONTEXT_PREFIX + k: v for k, v in DEFAULTS.items()})


def test_given_no_context_when_read_then_the_upload_api_follows_the_regions_detect_labels_quota():
    config = DeploymentConfig.from_context({})
    assert (config.api_rate_limit, config.api_burst_limit) == (None, None)  # cdk/quota.py decides


def test_given_a_rate_on_the_command_line_when_read_then_it_overrides_the_quota():
    config = DeploymentConfig.from_context({CONTEXT_PREFIX + "apiRateLimit": "7"})
    assert config.api_rate_limit == 7


def test_given_a_burst_below_the_rate_when_read_then_it_is_refused():
    with pytest.raises(ConfigError, match="apiBurstLimit"):
        DeploymentConfig.from_context({CONTEXT_PREFIX + "apiRateLimit": "7", CONTEXT_PREFIX + "apiBurstLimit": "3"})


def test_given_a_rate_that_is_not_a_number_when_read_then_it_is_refused():
    with pytest.raises(ConfigError, match="apiRateLimit"):
        DeploymentConfig.from_context({CONTEXT_PREFIX + "apiRateLimit": "fast"})


def test_given_a_misspelt_setting_when_read_then_it_is_refused():
    with pytest.raises(ConfigError, match="autotagger:profil"):
        DeploymentConfig.from_context({CONTEXT_PREFIX + "profil": "prod"})


def test_given_false_as_text_from_the_command_line_when_read_then_the_flag_is_off():
    config = DeploymentConfig.from_context({CONTEXT_PREFIX + "bastion": "false"})
    assert config.bastion is False


def test_given_an_unknown_profile_when_read_then_it_is_refused():
    with pytest.raises(ConfigError, match="profile"):
        DeploymentConfig.from_context({CONTEXT_PREFIX + "profile": "staging"})


def test_given_a_confidence_above_100_when_read_then_it_is_refused():
    with pytest.raises(ConfigError, match="minConfidence"):
        DeploymentConfig.from_context({CONTEXT_PREFIX + "minConfidence": "101"})


def test_given_a_key_prefix_starting_with_a_slash_when_read_then_it_is_refused():
    with pytest.raises(ConfigError, match="keyPrefix"):
        DeploymentConfig.from_context({CONTEXT_PREFIX + "keyPrefix": "/images/"})
