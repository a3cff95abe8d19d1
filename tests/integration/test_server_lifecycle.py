"""A server killed mid-work loses nothing it acknowledged; a keyed server refuses keyless calls."""

from __future__ import annotations

import httpx
import pytest

from .conftest import ServerProcess, sample_photo, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.models]

KEY = "integration-test-key-0123456789"


def test_GIVEN_acknowledged_uploads_WHEN_the_server_is_killed_and_restarted_THEN_each_ends_indexed_or_dead_lettered(
        models_ready, tmp_path):
    uploads = {f"crash/photo-{i}.png": sample_photo(name)
               for i, name in enumerate(["chelsea.png", "coffee.png", "astronaut.png"] * 2)}
    uploads["crash/broken.jpg"] = b"\xff\xd8\xff broken"
    server = ServerProcess(tmp_path / "data", tmp_path / "first.log").start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            for key, body in uploads.items():
                assert http.put(f"/v1/image-vaults/{key}", content=body,
                                headers={"Content-Type": "application/octet-stream"}).status_code == 200
    finally:
        server.kill()  # SIGKILL right after the last acknowledgement: most work is still pending

    restarted = ServerProcess(tmp_path / "data", tmp_path / "second.log").start()
    try:
        with httpx.Client(base_url=restarted.url, timeout=30) as http:
            def settled():
                indexed = [d["key"] for d in http.get("/v1/images", params={"limit": 500}).json()["images"]]
                dead = [m["body"]["event"]["detail"]["object"]["key"]
                        for m in http.get("/v1/dead-letters").json()["workflow"]]
                return (indexed, dead) if len(set(indexed) | set(dead)) == len(uploads) else None

            indexed, dead = wait_for(settled, timeout=90, interval=0.25)
    finally:
        restarted.stop()
    assert "re-running interrupted execution" in restarted.log()  # the kill did interrupt work
    assert sorted(indexed) == sorted(k for k in uploads if k.endswith(".png"))
    assert dead == ["crash/broken.jpg"]


@pytest.fixture(scope="module")
def keyed_server(models_ready, tmp_path_factory):
    directory = tmp_path_factory.mktemp("keyed")
    process = ServerProcess(directory / "data", directory / "server.log", ["--api-key", KEY]).start()
    yield process
    process.stop()


def test_GIVEN_a_keyed_server_WHEN_called_without_the_key_THEN_401(keyed_server):
    assert httpx.get(f"{keyed_server.url}/v1/summary").status_code == 401


def test_GIVEN_a_keyed_server_WHEN_uploading_with_the_key_THEN_200(keyed_server):
    response = httpx.put(f"{keyed_server.url}/v1/image-vaults/keyed.png", content=sample_photo("coffee.png"),
                         headers={"Content-Type": "image/png", "x-api-key": KEY})

    assert response.status_code == 200
