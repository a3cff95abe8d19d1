"""`autotagger serve` on a port another process holds: exit 2 naming the address, before starting.

An integration test because it binds a real loopback socket (unit tests may not; tests/unit/conftest.py)."""

from __future__ import annotations

import socket

import pytest

pytestmark = [pytest.mark.integration]


def test_GIVEN_a_busy_port_WHEN_serving_THEN_exit_2_naming_the_address(capsys, monkeypatch, tmp_path):
    from autotagger.cli import main

    monkeypatch.delenv("AUTOTAGGER_API_KEY", raising=False)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        code = main(["serve", "--port", str(port), "--data-dir", str(tmp_path)])

    assert code == 2 and f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
