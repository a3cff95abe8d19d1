"""The optional analyses' switches of a local run (AUTOTAGGER_DETECT_TEXT / AUTOTAGGER_DETECT_MODERATION):
on by default, read into the DefinitionSubstitutions the workflow file reads, as CDK's context does."""

from __future__ import annotations

import json

import pytest

from autotagger import contracts
from autotagger.config import Settings, analysis_enabled
from autotagger.errors import UserError


@pytest.fixture(autouse=True)
def no_switches(monkeypatch):
    for name in contracts.ANALYSIS_ENV.values():
        monkeypatch.delenv(name, raising=False)


def switches(settings: Settings) -> dict[str, bool]:
    substitutions = settings.substitutions()
    return {analysis: json.loads(substitutions[name]) for analysis, name in contracts.ANALYSIS_SUBSTITUTIONS.items()}


def test_GIVEN_no_switch_in_the_environment_WHEN_settings_are_made_THEN_both_optional_analyses_run():
    assert switches(Settings()) == {"text": True, "moderation": True}


@pytest.mark.parametrize("value", ["false", "FALSE", "0", "no", "off", " false "])
def test_GIVEN_a_switch_set_to_a_false_value_WHEN_settings_are_made_THEN_that_analysis_is_off(monkeypatch, value):
    monkeypatch.setenv("AUTOTAGGER_DETECT_TEXT", value)
    assert switches(Settings()) == {"text": False, "moderation": True}


@pytest.mark.parametrize("value", ["true", "1", "yes", "on", ""])
def test_GIVEN_a_switch_set_to_a_true_value_WHEN_read_THEN_that_analysis_is_on(monkeypatch, value):
    monkeypatch.setenv("AUTOTAGGER_DETECT_MODERATION", value)
    assert analysis_enabled("moderation") is True


def test_GIVEN_a_switch_that_is_neither_WHEN_settings_are_made_THEN_it_is_refused_naming_the_variable(monkeypatch):
    monkeypatch.setenv("AUTOTAGGER_DETECT_MODERATION", "maybe")
    with pytest.raises(UserError, match="AUTOTAGGER_DETECT_MODERATION must be true or false"):
        Settings()


def test_GIVEN_settings_given_in_code_WHEN_substituted_THEN_they_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("AUTOTAGGER_DETECT_TEXT", "false")
    assert switches(Settings(detect_text=True, detect_moderation=False)) == {"text": True, "moderation": False}
