"""The indexer Lambda asset, built on this machine: no Docker engine is needed to synthesize.

The asset is `functions/indexer/*.py` + the `autotagger` modules those handlers import
(found by reading the import statements, transitively, so the asset carries exactly what runs
and nothing of the local runtime) + the third-party wheels of `functions/indexer/requirements.txt`
for the Lambda platform (arm64, Python 3.13), fetched by pip as binary wheels only.

The wheels are cached per user by the hash of the requirements and the platform, so repeated
synths (every test session) cost a directory copy, not a download.
"""

from __future__ import annotations

import ast
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, ILocalBundling
from aws_cdk import aws_lambda as lambda_

REPO_ROOT = Path(__file__).resolve().parent.parent
INDEXER_DIR = REPO_ROOT / "functions" / "indexer"
HANDLER = "handler.handler"
CORE_PACKAGE = "autotagger"

PYTHON_VERSION = "3.13"
RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
PIP_PLATFORM = "manylinux2014_aarch64"
PIP_ARGS = (
    "--platform", PIP_PLATFORM,
    "--python-version", PYTHON_VERSION,
    "--implementation", "cp",
    "--only-binary=:all:",
    "--no-compile",
)


class BundlingError(RuntimeError):
    """The asset cannot be built: say why instead of letting CDK fall back to Docker."""


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "autotagger" / "lambda-deps"


def handler_sources(indexer_dir: Path = INDEXER_DIR) -> list[Path]:
    sources = sorted(p for p in indexer_dir.glob("*.py"))
    if not (indexer_dir / "handler.py").is_file():
        raise BundlingError(f"{indexer_dir / 'handler.py'} is missing: the indexer Lambda has no handler")
    return sources


def _module_file(name: str, root: Path) -> Path | None:
    """The file defining module `name` under `root`: a package's __init__.py or a .py module."""
    base = root.joinpath(*name.split("."))
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    return None


def _imported_names(path: Path, module: str | None) -> set[str]:
    """Absolute module names imported by `path` (`module` is its dotted name, for relative imports)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = None
    if module is not None:
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if package is None:
                    continue
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - (node.level - 1)])
                base = f"{anchor}.{node.module}" if node.module else anchor
            else:
                base = node.module or ""
            names.add(base)
            # `from pkg import sub` may name a submodule: record the candidate, resolve later.
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def core_modules(sources: list[Path], root: Path = REPO_ROOT) -> list[Path]:
    """Every `autotagger` source file the handlers need, parent packages included, sorted."""
    needed: dict[str, Path] = {}
    pending = [(path, None) for path in sources]
    while pending:
        path, module = pending.pop()
        for name in _imported_names(path, module):
            if name != CORE_PACKAGE and not name.startswith(CORE_PACKAGE + "."):
                continue
            parts = name.split(".")
            for depth in range(1, len(parts) + 1):
                prefix = ".".join(parts[:depth])
                if prefix in needed:
                    continue
                file = _module_file(prefix, root)
                if file is None:
                    continue  # an attribute imported from a module, not a module
                needed[prefix] = file
                pending.append((file, prefix))
    return sorted(needed.values())


def _package_data(modules: list[Path]) -> list[Path]:
    """Non-Python files (the index template) of the packages whose code is bundled."""
    packages = {m.parent for m in modules if m.name == "__init__.py"}
    return sorted(
        p for pkg in packages for p in pkg.iterdir()
        if p.is_file() and p.suffix not in (".py", ".pyc")
    )


def asset_files(indexer_dir: Path = INDEXER_DIR, root: Path = REPO_ROOT) -> list[Path]:
    """Every repository file that ends up in the asset (the wheels aside)."""
    sources = handler_sources(indexer_dir)
    modules = core_modules(sources, root)
    return sources + modules + _package_data(modules)


def requirements_file(indexer_dir: Path = INDEXER_DIR) -> Path:
    path = indexer_dir / "requirements.txt"
    if not path.is_file():
        raise BundlingError(f"{path} is missing: the indexer's third-party dependencies are unknown")
    return path


def _dependencies_key(requirements: Path) -> str:
    digest = hashlib.sha256(requirements.read_bytes())
    digest.update(" ".join(PIP_ARGS).encode())
    return digest.hexdigest()[:24]


def asset_hash(indexer_dir: Path = INDEXER_DIR, root: Path = REPO_ROOT) -> str:
    """Changes when any bundled file, the requirements or the pip platform changes, and only then
    (CDK reuses a staged asset with the same hash instead of bundling again)."""
    digest = hashlib.sha256(_dependencies_key(requirements_file(indexer_dir)).encode())
    for path in asset_files(indexer_dir, root):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def install_dependencies(requirements: Path, cache: Path | None = None) -> Path:
    """The directory holding the Lambda-platform wheels of `requirements`, installed once."""
    target = (cache or cache_root()) / _dependencies_key(requirements)
    if (target / ".complete").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        *PIP_ARGS, "--target", str(staging), "-r", str(requirements),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise BundlingError(f"pip could not fetch the indexer dependencies:\n{result.stderr.strip()}")
    (staging / ".complete").write_text(" ".join(command[3:]) + "\n", encoding="utf-8")
    try:
        staging.rename(target)
    except OSError:  # another synth finished first: its copy is as good as ours
        shutil.rmtree(staging, ignore_errors=True)
    return target


def build(output_dir: Path, indexer_dir: Path = INDEXER_DIR, root: Path = REPO_ROOT) -> None:
    dependencies = install_dependencies(requirements_file(indexer_dir))
    shutil.copytree(dependencies, output_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns(
        ".complete", "__pycache__", "*.pyc"))
    for path in asset_files(indexer_dir, root):
        relative = path.name if path.parent == indexer_dir else path.relative_to(root)
        destination = output_dir / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)


@jsii.implements(ILocalBundling)
class _LocalBundling:
    def __init__(self, function_dir: Path):
        self.function_dir = function_dir

    def try_bundle(self, output_dir: str, *args, **kwargs) -> bool:  # CDK's signature
        build(Path(output_dir), self.function_dir)
        return True


def indexer_code(function_dir: Path = INDEXER_DIR) -> lambda_.Code:
    """The asset of the function in `function_dir` (any `functions/<name>/` with a handler.py and a
    requirements.txt; the indexer's by default). The Docker image named here is never pulled
    because local bundling succeeds (or raises), it only satisfies BundlingOptions' required `image`."""
    return lambda_.Code.from_asset(
        str(function_dir),
        asset_hash=asset_hash(function_dir),
        asset_hash_type=AssetHashType.CUSTOM,
        bundling=BundlingOptions(
            image=RUNTIME.bundling_image,
            local=_LocalBundling(function_dir),
        ),
    )
