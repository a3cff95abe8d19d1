"""Where models are cached and when a cache counts as usable."""

import hashlib
import json

import pytest

from autotagger.models import cache


@pytest.fixture
def model_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOTAGGER_MODEL_DIR", str(tmp_path / "models"))
    return tmp_path / "models"


def write_build(directory, corrupt: str | None = None):
    directory.mkdir(parents=True, exist_ok=True)
    files = {}
    for name in (cache.CLASSIFIER_FILE, cache.DETECTOR_FILE):
        data = name.encode() * 100
        (directory / name).write_bytes(data)
        files[name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    (directory / cache.MANIFEST_FILE).write_text(json.dumps(
        {"build_format": cache.BUILD_FORMAT, "label_model_version": "v", "files": files}))
    if corrupt:
        (directory / corrupt).write_bytes(b"changed")


def test_given_env_override_when_resolving_then_model_dir_follows_it(model_dir):
    assert cache.model_dir() == model_dir


def test_given_default_when_resolving_then_model_dir_is_in_the_user_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("AUTOTAGGER_MODEL_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.model_dir() == tmp_path / "autotagger" / "models"


def test_given_empty_cache_when_models_needed_then_error_tells_to_run_models_build(model_dir):
    with pytest.raises(cache.ModelsMissingError, match="autotagger models build"):
        cache.verified_models()


def test_given_complete_build_when_checked_then_manifest_returned(model_dir):
    write_build(model_dir)
    assert cache.verified_models()["label_model_version"] == "v"


def test_given_file_changed_after_build_when_checked_then_checksum_mismatch_reported(model_dir):
    write_build(model_dir, corrupt=cache.DETECTOR_FILE)
    assert cache.problems() == [f"{cache.DETECTOR_FILE} does not match its checksum"]


def test_given_build_without_manifest_when_checked_then_counts_as_missing(model_dir):
    write_build(model_dir)
    (model_dir / cache.MANIFEST_FILE).unlink()
    with pytest.raises(cache.ModelsMissingError, match="no models"):
        cache.verified_models()
