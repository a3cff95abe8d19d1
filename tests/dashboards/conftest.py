"""OpenSearch Dashboards saved objects (dashboards/*.ndjson), read as OpenSearch Dashboards reads them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAVED_OBJECTS = sorted((REPO / "dashboards").glob("*.ndjson"))
TEMPLATE = REPO / "autotagger" / "index" / "template.json"


def load_saved_objects() -> list[dict]:
    return [json.loads(line) for path in SAVED_OBJECTS for line in path.read_text().splitlines() if line.strip()]


def vis_state(saved_object: dict) -> dict:
    return json.loads(saved_object["attributes"]["visState"])


def search_source(saved_object: dict) -> dict:
    return json.loads(saved_object["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])


def template_fields() -> dict[str, str]:
    """Every field of the index template's mapping by dotted path -> its type."""
    mapping = json.loads(TEMPLATE.read_text())["template"]["mappings"]
    fields: dict[str, str] = {}

    def walk(properties: dict, prefix: str) -> None:
        for name, spec in properties.items():
            path = f"{prefix}{name}"
            fields[path] = spec.get("type", "object")
            walk(spec.get("properties", {}), f"{path}.")

    walk(mapping["properties"], "")
    return fields


@pytest.fixture(scope="session")
def saved_objects() -> list[dict]:
    assert SAVED_OBJECTS, "no dashboards/*.ndjson"
    return load_saved_objects()


@pytest.fixture(scope="session")
def visualizations(saved_objects) -> list[dict]:
    return [o for o in saved_objects if o["type"] == "visualization"]


@pytest.fixture(scope="session")
def osmem_server():
    """An in-memory OpenSearch-API server (osmem-server, PyPI) for the visualizations' queries."""
    from osmem_server import OsmemServer

    server = OsmemServer.start(japanese=False, addr="127.0.0.1:0")
    yield server
    server.close()
