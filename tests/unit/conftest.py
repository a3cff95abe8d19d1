"""Unit tests run without a network: any socket they create or connect, other than a Unix one
(asyncio's self-pipe in the TestClient's event loop is a Unix socket pair), fails loudly.

A test that needs a real TCP socket is an integration test (tests/integration)."""

from __future__ import annotations

import socket

# The X-Ray SDK (Powertools' Tracer, in the indexer handler) makes its UDP emitter's socket when first
# imported; tracing is off locally, so it never sends. Imported here, before any test is guarded.
import aws_xray_sdk.core  # noqa: F401
import pytest


class SocketInUnitTest(RuntimeError):
    """A unit test reached for the network."""


def _refuse(family: object, what: str) -> None:
    if family != socket.AF_UNIX:
        raise SocketInUnitTest(f"unit tests may not {what} a network socket (family {family!r}); "
                               "use a fake behind the port, or write an integration test")


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Guards socket.socket itself, so `from socket import socket` and every library (urllib3,
    boto3, opensearch-py, asyncio) are covered, for creation and for connecting."""
    create, connect, connect_ex = socket.socket.__init__, socket.socket.connect, socket.socket.connect_ex

    def guarded_init(self, family=-1, type=-1, proto=-1, fileno=None):
        if fileno is None:  # a socket wrapped around an existing descriptor was made elsewhere
            _refuse(socket.AF_INET if family == -1 else family, "create")
        create(self, family, type, proto, fileno)

    def guarded_connect(self, address):
        _refuse(self.family, "connect")
        return connect(self, address)

    def guarded_connect_ex(self, address):
        _refuse(self.family, "connect")
        return connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "__init__", guarded_init)
    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
