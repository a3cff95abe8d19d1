"""The OpenSearch-API server for the benchmarks: osmem-server (in memory) on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def opensearch_server() -> Iterator[str]:
    """Starts osmem-server on 127.0.0.1 (a free port), yields its URL, stops it."""
    from osmem_server import OsmemServer

    server = OsmemServer.start(addr="127.0.0.1:0", japanese=False)
    try:
        yield server.url.rstrip("/")
    finally:
        server.close()
