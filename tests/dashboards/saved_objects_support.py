"""Reading the OpenSearch Dashboards saved objects (dashboards/*.ndjson) and the index template."""

from __future__ import annotations

import json
from pathlib import Path

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
