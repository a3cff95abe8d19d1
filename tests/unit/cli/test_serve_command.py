"""`autotagger serve` refuses unsafe or impossible settings with one clear line, before starting."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def no_key_in_environment(monkeypatch):
    monkeypatch.delenv("AUTOTAGGER_API_KEY", raising=False)


def test_GIVEN_a_non_loopback_host_and_no_key_WHEN_serving_THEN_exit_2_asking_for_a_key(run_cli, tmp_path):
    code, _, err = run_cli("serve", "--host", "0.0.0.0", "--data-dir", tmp_path)

    assert code == 2 and "--api-key" in err and err.count("\n") == 1


def test_GIVEN_a_short_key_WHEN_serving_THEN_exit_2(run_cli, tmp_path):
    code, _, err = run_cli("serve", "--api-key", "short", "--data-dir", tmp_path)

    assert code == 2 and "at least 16 characters" in err


def test_GIVEN_a_port_out_of_range_WHEN_serving_THEN_exit_2(run_cli, tmp_path):
    code, _, err = run_cli("serve", "--port", "70000", "--data-dir", tmp_path)

    assert code == 2 and "between 0 and 65535" in err


def test_GIVEN_an_unknown_labeler_WHEN_serving_THEN_argparse_refuses_it(run_cli, tmp_path):
    with pytest.raises(SystemExit) as exited:
        run_cli("serve", "--labeler", "magic", "--data-dir", tmp_path)

    assert exited.value.code == 2
