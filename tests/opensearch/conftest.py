"""An in-memory OpenSearch-API server (osmem-server, from PyPI) on loopback; each test gets a clone.

osmem-server speaks the OpenSearch REST API but is not OpenSearch: these tests check what the
adapter sends and how it reads the answers, not OpenSearch's own behaviour.
"""

from __future__ import annotations

import pytest

osmem_server_module = pytest.importorskip("osmem_server")


@pytest.fixture(scope="session")
def osmem_server():
    """Overrides the plugin's fixture: no seed, no Japanese analysis (faster start)."""
    server = osmem_server_module.OsmemServer.start(japanese=False, addr="127.0.0.1:0")
    yield server
    server.close()
