"""`make run` starts `autotagger serve --seed-samples`: a fresh machine opens to tagged photos."""

from __future__ import annotations

import httpx

from autotagger.local.samples import sample_photos
from tests.integration.conftest import ServerProcess, wait_for


def _indexed(server: ServerProcess) -> list[dict]:
    images = httpx.get(f"{server.url}/v1/images", params={"limit": 100}, timeout=10).json()["images"]
    return images


def test_GIVEN_an_empty_data_dir_WHEN_serving_with_seed_samples_THEN_every_sample_photo_is_tagged(
        models_ready, tmp_path):
    expected = {key for key, _, _ in sample_photos()}
    server = ServerProcess(tmp_path / "data", tmp_path / "server.log", ["--seed-samples"]).start()
    try:
        images = wait_for(lambda: (found := _indexed(server)) and len(found) == len(expected) and found, timeout=120)
        by_key = {image["key"]: image for image in images}
        assert set(by_key) == expected
        assert "Person" in by_key["samples/astronaut.png"]["tags"]
        assert {"Cat", "Animal"} <= set(by_key["samples/chelsea.png"]["tags"])
    finally:
        server.stop()


def test_GIVEN_a_bucket_with_objects_WHEN_serving_with_seed_samples_again_THEN_nothing_is_uploaded_twice(
        models_ready, tmp_path):
    first = ServerProcess(tmp_path / "data", tmp_path / "first.log", ["--seed-samples"]).start()
    try:
        count = len({key for key, _, _ in sample_photos()})
        wait_for(lambda: len(_indexed(first)) == count, timeout=120)
    finally:
        first.stop()
    second = ServerProcess(tmp_path / "data", tmp_path / "second.log", ["--seed-samples"]).start()
    try:
        executions = httpx.get(f"{second.url}/v1/executions", params={"limit": 100}, timeout=10).json()["executions"]
        assert len(executions) == count
        assert "tagging" not in second.log().split("serving bucket")[-1]
    finally:
        second.stop()
