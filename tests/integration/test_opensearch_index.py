"""`autotagger serve --index URL`: the same uploads land in an OpenSearch-API index instead of SQLite."""

from __future__ import annotations

import httpx
import pytest

from .conftest import ServerProcess, sample_photo, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.models]


@pytest.fixture
def opensearch(osmem_server):
    """A clone of the session's OpenSearch-API server: this test's writes stay its own."""
    with osmem_server.clone() as clone:
        yield clone


def test_GIVEN_an_opensearch_url_WHEN_a_photo_is_uploaded_THEN_it_is_searchable_through_the_api(
        models_ready, opensearch, tmp_path):
    server = ServerProcess(tmp_path / "data", tmp_path / "server.log", ["--index", opensearch.url]).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            assert http.put("/v1/image-vaults/raw-image%2Fcat.png", content=sample_photo("chelsea.png"),
                            headers={"Content-Type": "image/png"}).status_code == 200

            found = wait_for(lambda: http.get("/v1/images", params={"tag": "Cat"}).json()["images"], timeout=30)
    finally:
        server.stop()
    assert [d["key"] for d in found] == ["raw-image/cat.png"]
    assert not (tmp_path / "data" / "index.sqlite3").exists()  # nothing went to the SQLite index
