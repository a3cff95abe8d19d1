"""Lambda assets, built locally (no Docker): what goes in, the lock with hashes, and the pip cache."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from asset_probe import autotagger_modules_loaded

from cdk import lambda_bundle


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def layout(tmp_path):
    """A repository in miniature: a handler importing one core module, which imports another
    relatively, plus a local-runtime module nothing imports and package data."""
    root = tmp_path / "repo"
    handler_dir = root / "functions" / "indexer"
    _write(handler_dir / "handler.py", "from autotagger import stream_indexer\n\ndef handler(e, c):\n    return stream_indexer.run()\n")
    _write(handler_dir / "requirements.txt", "example\n")
    _write(handler_dir / "requirements.lock", "example==1.0 \\\n    --hash=sha256:" + "0" * 64 + "\n")
    _write(root / "autotagger" / "__init__.py", "")
    _write(root / "autotagger" / "stream_indexer" / "__init__.py", "from .batch import run\n")
    _write(root / "autotagger" / "stream_indexer" / "batch.py", "def run():\n    from autotagger.index import open_index\n    return open_index\n")
    _write(root / "autotagger" / "index" / "__init__.py", "def open_index():\n    return 1\n")
    _write(root / "autotagger" / "index" / "template.json", "{}")
    _write(root / "autotagger" / "local" / "runtime.py", "import numpy\n")
    return root, handler_dir


def _relative(paths, root):
    return sorted(str(p.relative_to(root)) for p in paths)


def test_given_a_handler_when_collecting_core_modules_then_its_transitive_and_relative_imports_are_included(layout):
    root, handler_dir = layout
    modules = lambda_bundle.core_modules(lambda_bundle.handler_sources(handler_dir), root)
    assert _relative(modules, root) == [
        "autotagger/__init__.py", "autotagger/index/__init__.py",
        "autotagger/stream_indexer/__init__.py", "autotagger/stream_indexer/batch.py",
    ]


def test_given_a_bundled_package_when_collecting_files_then_its_data_files_come_along(layout):
    root, handler_dir = layout
    assert "autotagger/index/template.json" in _relative(lambda_bundle.asset_files(handler_dir, root), root)


def test_given_a_module_the_handler_never_imports_when_collecting_then_it_is_left_out(layout):
    root, handler_dir = layout
    assert "autotagger/local/runtime.py" not in _relative(lambda_bundle.asset_files(handler_dir, root), root)


def test_given_a_change_in_a_bundled_module_when_hashing_then_the_asset_hash_changes(layout):
    root, handler_dir = layout
    before = lambda_bundle.asset_hash(handler_dir, root)
    _write(root / "autotagger" / "index" / "__init__.py", "def open_index():\n    return 2\n")
    assert lambda_bundle.asset_hash(handler_dir, root) != before


def test_given_a_change_outside_the_asset_when_hashing_then_the_asset_hash_is_unchanged(layout):
    root, handler_dir = layout
    before = lambda_bundle.asset_hash(handler_dir, root)
    _write(root / "autotagger" / "local" / "runtime.py", "import onnxruntime\n")
    assert lambda_bundle.asset_hash(handler_dir, root) == before


def test_given_a_new_pin_in_the_lock_when_hashing_then_the_asset_hash_changes(layout):
    """The asset hash covers the lock: a new library version deploys a new asset."""
    root, handler_dir = layout
    before = lambda_bundle.asset_hash(handler_dir, root)
    _write(handler_dir / "requirements.lock", "example==1.1 \\\n    --hash=sha256:" + "1" * 64 + "\n")
    assert lambda_bundle.asset_hash(handler_dir, root) != before


def test_given_a_data_file_when_hashing_and_collecting_then_it_is_in_the_asset_and_its_hash(layout):
    root, handler_dir = layout
    data = _write(root / "dashboards" / "a.ndjson", "{}\n")
    before = lambda_bundle.asset_hash(handler_dir, root, [data])
    assert "dashboards/a.ndjson" in _relative(lambda_bundle.asset_files(handler_dir, root, [data]), root)
    _write(data, '{"id": 1}\n')
    assert lambda_bundle.asset_hash(handler_dir, root, [data]) != before


def test_given_no_lock_when_bundling_then_the_error_names_the_command_that_writes_it(layout):
    root, handler_dir = layout
    (handler_dir / "requirements.lock").unlink()
    with pytest.raises(lambda_bundle.BundlingError, match="uv pip compile requirements.txt --generate-hashes"):
        lambda_bundle.asset_hash(handler_dir, root)


def test_given_a_lock_when_installing_then_pip_requires_its_hashes_for_the_lambda_platform(tmp_path, monkeypatch):
    lock = _write(tmp_path / "requirements.lock", "example==1.0\n")
    seen = {}

    def fake_pip(command, **kwargs):
        seen["command"] = command
        return subprocess.CompletedProcess(command, 1, "", "no network here")
    monkeypatch.setattr(lambda_bundle.subprocess, "run", fake_pip)
    with pytest.raises(lambda_bundle.BundlingError, match="no network here"):
        lambda_bundle.install_dependencies(lock, tmp_path / "cache")
    command = seen["command"]
    assert "--require-hashes" in command and command[command.index("-r") + 1] == str(lock)
    assert command[command.index("--platform") + 1] == lambda_bundle.PIP_PLATFORM


@pytest.mark.parametrize("function_dir", sorted(p.parent for p in lambda_bundle.FUNCTIONS_DIR.glob("*/handler.py")),
                         ids=lambda p: p.name)
def test_given_a_function_when_its_lock_is_read_then_every_requirement_is_pinned_with_hashes(function_dir):
    """Each direct requirement of requirements.txt has a pinned line in the lock, and every pin
    carries at least one hash (pip refuses the whole install otherwise)."""
    lock_text = lambda_bundle.lock_file(function_dir).read_text(encoding="utf-8")
    pins = dict(re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", lock_text, flags=re.M))
    blocks = re.split(r"\n(?=[A-Za-z0-9])", lock_text.strip())
    assert pins and all("--hash=sha256:" in block for block in blocks if "==" in block)
    wanted = [re.split(r"[\[<>=!~ ;]", line.strip(), maxsplit=1)[0]
              for line in (function_dir / lambda_bundle.REQUIREMENTS).read_text(encoding="utf-8").splitlines()
              if line.strip() and not line.startswith("#")]
    normal = {re.sub(r"[-_.]+", "-", name).lower() for name in pins}
    assert [w for w in wanted if re.sub(r"[-_.]+", "-", w).lower() not in normal] == []


def test_given_no_handler_when_bundling_then_a_clear_error_is_raised(tmp_path):
    with pytest.raises(lambda_bundle.BundlingError, match="handler.py"):
        lambda_bundle.handler_sources(tmp_path)


def test_given_installed_dependencies_when_bundling_again_then_pip_is_not_run(tmp_path, monkeypatch):
    requirements = _write(tmp_path / "requirements.lock", "example==1.0\n")
    cached = tmp_path / "cache" / lambda_bundle._dependencies_key(requirements)
    _write(cached / ".complete", "done\n")
    monkeypatch.setattr(lambda_bundle.subprocess, "run", lambda *a, **k: pytest.fail("pip ran again"))
    assert lambda_bundle.install_dependencies(requirements, tmp_path / "cache") == cached


def test_given_the_synthesized_asset_when_importing_the_handler_then_every_core_module_comes_from_the_asset(dev, tmp_path):
    """The real asset of the real handler: its `autotagger` code must be complete on its own (the
    third-party wheels are for arm64/3.13, so they come from this virtualenv instead)."""
    code = dev.resource(dev.stack.indexer.function)["Properties"]["Code"]
    asset = dev.outdir / f"asset.{code['S3Key'].removesuffix('.zip')}"
    core_only = tmp_path / "core"
    for path in [asset / "handler.py", *asset.joinpath("autotagger").rglob("*")]:
        if path.is_file():
            _write(core_only / path.relative_to(asset), path.read_text(encoding="utf-8", errors="replace"))
    loaded, outside = autotagger_modules_loaded(core_only, tmp_path, "")
    assert (bool(loaded), outside) == (True, {})
