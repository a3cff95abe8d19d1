"""When the API must carry a key: never on loopback by default, always beyond it."""

from __future__ import annotations

import pytest

from autotagger.config import is_loopback, resolve_api_key
from autotagger.errors import UserError

KEY = "k" * 20


@pytest.fixture(autouse=True)
def no_key_in_environment(monkeypatch):
    monkeypatch.delenv("AUTOTAGGER_API_KEY", raising=False)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"])
def test_GIVEN_a_loopback_host_WHEN_checked_THEN_it_is_loopback(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.com"])
def test_GIVEN_a_host_reachable_from_elsewhere_WHEN_checked_THEN_it_is_not_loopback(host):
    assert not is_loopback(host)


def test_GIVEN_loopback_and_no_key_WHEN_resolving_THEN_no_key_is_required():
    assert resolve_api_key("127.0.0.1", None) is None


def test_GIVEN_a_public_host_and_the_key_in_the_environment_WHEN_resolving_THEN_that_key_is_required(monkeypatch):
    monkeypatch.setenv("AUTOTAGGER_API_KEY", KEY)

    assert resolve_api_key("0.0.0.0", None) == KEY


def test_GIVEN_a_public_host_and_no_key_WHEN_resolving_THEN_a_user_error_asks_for_one():
    with pytest.raises(UserError, match="AUTOTAGGER_API_KEY"):
        resolve_api_key("0.0.0.0", None)


def test_GIVEN_a_flag_and_an_environment_key_WHEN_resolving_THEN_the_flag_wins(monkeypatch):
    monkeypatch.setenv("AUTOTAGGER_API_KEY", KEY)

    assert resolve_api_key("0.0.0.0", "f" * 20) == "f" * 20
