"""OpenSearch Dashboards saved objects (dashboards/*.ndjson), read as OpenSearch Dashboards reads them."""

from __future__ import annotations

import pytest
from saved_objects_support import SAVED_OBJECTS, load_saved_objects


@pytest.fixture(scope="session")
def saved_objects() -> list[dict]:
    assert SAVED_OBJECTS, "no dashboards/*.ndjson"
    return load_saved_objects()


@pytest.fixture(scope="session")
def visualizations(saved_objects) -> list[dict]:
    return [o for o in saved_objects if o["type"] == "visualization"]

