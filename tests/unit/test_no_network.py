"""The guard of tests/unit/conftest.py trips on any network socket and lets Unix sockets through."""

from __future__ import annotations

import socket
import urllib.request

import pytest

# conftest.SocketInUnitTest, a RuntimeError (pytest imports conftest modules under their own names).
GUARD = "unit tests may not create a network socket"


def test_GIVEN_a_unit_test_WHEN_it_creates_a_tcp_socket_THEN_the_guard_fails_it_loudly():
    with pytest.raises(RuntimeError, match=GUARD):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)


def test_GIVEN_a_unit_test_WHEN_a_library_opens_a_connection_THEN_the_guard_fails_it():
    with pytest.raises(RuntimeError, match=GUARD):
        socket.create_connection(("127.0.0.1", 9))
    with pytest.raises(RuntimeError, match=GUARD):
        urllib.request.urlopen("http://127.0.0.1:9/", timeout=1)


def test_GIVEN_a_unit_test_WHEN_it_uses_a_unix_socket_pair_THEN_it_works():
    left, right = socket.socketpair(socket.AF_UNIX)
    with left, right:
        left.sendall(b"ping")
        assert right.recv(4) == b"ping"
