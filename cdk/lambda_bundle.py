"""Python Lambda assets, built on this machine: no Docker engine is needed to synthesize.

Generic: a function directory in (`functions/<name>/` with `handler.py` and `requirements.lock`),
an asset out. The asset is `functions/<name>/*.py` + the `autotagger` modules those handlers import
(found by reading the import statements, transitively, so the asset carries exactly what runs
and nothing of the local runtime) + optional data files + the third-party wheels pinned in the
function's `requirements.lock` for the Lambda platform (arm64, Python 3.13), installed by pip with
`--require-hashes` (every wheel must match a hash of the lock) as binary wheels only.

The lock is generated from the function's `requirements.txt` (the direct dependencies, by hand) with
`LOCK_COMMAND` (uv, a dev dependency), run in the function directory; a test keeps each lock's pins
in step with its requirements. The asset hash covers the lock, so a new pin deploys a new asset
and an old asset is rebuilt exactly from its lock.

The wheels are cached per user by the hash of the lock and the platform, so repeated synths (every
test session) cost a directory copy, not a download.
"""

from __future__ import annotations

import ast
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from cdk.nag import Ack, acknowledge

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO_ROOT / "functions"
INDEXER_DIR = FUNCTIONS_DIR / "indexer"
HANDLER = "handler.handler"
REQUIREMENTS = "requirements.txt"
LOCK = "requirements.lock"
CORE_PACKAGE = "autotagger"

PYTHON_VERSION = "3.13"
RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
PIP_PLATFORM = "manylinux2014_aarch64"
UV_PLATFORM = "aarch64-manylinux2014"
LOCK_COMMAND = (
    "uv", "pip", "compile", REQUIREMENTS, "--generate-hashes", "--python-platform", UV_PLATFORM,
    "--python-version", PYTHON_VERSION, "--only-binary", ":all:", "--no-header", "-o", LOCK,
)
"""Regenerates a function's lock (run in its directory, e.g. `cd functions/indexer && uv pip compile
requirements.txt --generate-hashes --python-platform aarch64-manylinux2014 --python-version 3.13
--only-binary :all: --no-header -o requirements.lock`); add `--upgrade` to move every pin."""
PIP_ARGS = (
    "--require-hashes",
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


def handler_sources(function_dir: Path = INDEXER_DIR) -> list[Path]:
    sources = sorted(p for p in function_dir.glob("*.py"))
    if not (function_dir / "handler.py").is_file():
        raise BundlingError(f"{function_dir / 'handler.py'} is missing: the {function_dir.name} Lambda has no handler")
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


def asset_files(function_dir: Path = INDEXER_DIR, root: Path = REPO_ROOT,
                data_files: Sequence[Path] = ()) -> list[Path]:
    """Every repository file that ends up in the asset (the wheels aside)."""
    sources = handler_sources(function_dir)
    modules = core_modules(sources, root)
    return sources + modules + _package_data(modules) + sorted(data_files)


def lock_file(function_dir: Path = INDEXER_DIR) -> Path:
    path = function_dir / LOCK
    if not path.is_file():
        raise BundlingError(f"{path} is missing: generate it in {function_dir} with `{' '.join(LOCK_COMMAND)}`")
    return path


def _dependencies_key(lock: Path) -> str:
    digest = hashlib.sha256(lock.read_bytes())
    digest.update(" ".join(PIP_ARGS).encode())
    return digest.hexdigest()[:24]


def asset_hash(function_dir: Path = INDEXER_DIR, root: Path = REPO_ROOT, data_files: Sequence[Path] = ()) -> str:
    """Changes when any bundled file, the lock or the pip platform changes, and only then
    (CDK reuses a staged asset with the same hash instead of bundling again)."""
    digest = hashlib.sha256(_dependencies_key(lock_file(function_dir)).encode())
    for path in asset_files(function_dir, root, data_files):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def install_dependencies(lock: Path, cache: Path | None = None) -> Path:
    """The directory holding the Lambda-platform wheels pinned in `lock`, installed once."""
    target = (cache or cache_root()) / _dependencies_key(lock)
    if (target / ".complete").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        *PIP_ARGS, "--target", str(staging), "-r", str(lock),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise BundlingError(f"pip could not install the wheels of {lock}:\n{result.stderr.strip()}")
    (staging / ".complete").write_text(" ".join(command[3:]) + "\n", encoding="utf-8")
    try:
        staging.rename(target)
    except OSError:  # another synth finished first: its copy is as good as ours
        shutil.rmtree(staging, ignore_errors=True)
    return target


def build(output_dir: Path, function_dir: Path = INDEXER_DIR, root: Path = REPO_ROOT,
          data_files: Sequence[Path] = ()) -> None:
    """Writes the asset into `output_dir`: wheels, handler files at the top, the rest of the
    repository files (core modules, data files) under their repository paths."""
    dependencies = install_dependencies(lock_file(function_dir))
    shutil.copytree(dependencies, output_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns(
        ".complete", "__pycache__", "*.pyc"))
    for path in asset_files(function_dir, root, data_files):
        relative = path.name if path.parent == function_dir else path.relative_to(root)
        destination = output_dir / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)


@jsii.implements(ILocalBundling)
class _LocalBundling:
    def __init__(self, function_dir: Path, data_files: Sequence[Path]) -> None:
        self.function_dir = function_dir
        self.data_files = tuple(data_files)

    def try_bundle(self, output_dir: str, *args, **kwargs) -> bool:
        build(Path(output_dir), self.function_dir, REPO_ROOT, self.data_files)
        return True


def function_code(function_dir: Path, data_files: Sequence[Path] = ()) -> lambda_.Code:
    """The asset of the function in `function_dir` (plus `data_files`, repository files copied under
    their repository paths). The Docker image named here is never pulled because local bundling
    succeeds (or raises), it only satisfies BundlingOptions' required `image`."""
    return lambda_.Code.from_asset(
        str(function_dir),
        asset_hash=asset_hash(function_dir, REPO_ROOT, data_files),
        asset_hash_type=AssetHashType.CUSTOM,
        bundling=BundlingOptions(
            image=RUNTIME.bundling_image,
            local=_LocalBundling(function_dir, data_files),
        ),
    )


RUNTIME_ACK = Ack(
    "L1", "Python 3.13 on purpose: the asset's wheels are installed for cp313 by this bundler "
          "(cdk/lambda_bundle.py); moving to 3.14 is one constant here.",
)


def python_function(scope: Construct, construct_id: str, *, function_dir: Path, description: str,
                    **options: Any) -> lambda_.Function:
    """A Lambda function of this repository: `function_dir`'s handler on Python 3.13 arm64, bundled by
    `function_code`, traced, logging JSON. `options` are the function's own (role, memory, timeout,
    log group, VPC, environment)."""
    function = lambda_.Function(
        scope, construct_id,
        description=description,
        runtime=RUNTIME,
        architecture=ARCHITECTURE,
        handler=HANDLER,
        code=function_code(function_dir),
        tracing=lambda_.Tracing.ACTIVE,
        logging_format=lambda_.LoggingFormat.JSON,
        **options,
    )
    acknowledge(function, RUNTIME_ACK)
    return function
