"""The normalisation step's cost (issue 13): what it adds per image, and what it needs.

* calls: how many tasks an execution runs for a JPEG/PNG that needs nothing versus a HEIC, counted
  from the local engine's execution histories (TaskStateEntered events) — the direct path must
  have no call besides DetectLabels and PutRecord.
* per image: milliseconds and peak memory (the process's peak RSS, what Lambda's memory setting
  must hold) of normalising a 12 MP HEIC (a phone photo) and a 40 MB camera JPEG, each in a fresh
  process, so one measurement's allocations cannot hide another's.
* pipeline: images per second through the local pipeline (ONNX labeler when the models are built,
  else the instant labeler) with a mix of formats versus JPEG only.

    python -m bench.bench_normalize [--quick]
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from bench.common import REPO_ROOT, log, machine, median

HEIC_SIZE = (4032, 3024)  # 12 MP, what most phones save
CAMERA_JPEG_SIZE = (7000, 5000)  # 35 MP of incompressible pixels: about 40 MB at quality 95


def _photo_pixels(width: int, height: int, seed: int) -> np.ndarray:
    """Smooth gradients plus noise: compresses like a photo (not like a flat colour or pure noise)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([(x * 255 // width), (y * 255 // height), ((x + y) * 127 // (width + height))], axis=-1)
    return np.clip(base + rng.integers(-8, 8, base.shape), 0, 255).astype(np.uint8)


def heic_photo(size: tuple[int, int] = HEIC_SIZE, orientation: int = 6) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    Image.fromarray(_photo_pixels(*size, seed=1)).save(out, "HEIF", quality=80, exif=exif.tobytes())
    return out.getvalue()


def camera_jpeg(size: tuple[int, int] = CAMERA_JPEG_SIZE) -> bytes:
    pixels = np.random.default_rng(2).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=95)
    return out.getvalue()


_CHILD = r"""
import json, sys, time


def hwm_mb():
    # VmHWM: this process's peak resident set since exec (getrusage's ru_maxrss would keep the
    # forking parent's peak across exec on Linux)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024


from autotagger.normalize import normalize
data = open(sys.argv[1], "rb").read()
before = hwm_mb()
start = time.perf_counter()
result = normalize(data)
ms = (time.perf_counter() - start) * 1000
print(json.dumps({"ms": ms, "peak_rss_mb": hwm_mb(), "before_rss_mb": before,
                  "derivative": [result.width, result.height], "format": result.source_format}))
"""

def measure(data: bytes, repeats: int) -> dict[str, Any]:
    """Normalises `data` in `repeats` fresh processes; medians of time and peak RSS."""
    with tempfile.NamedTemporaryFile(suffix=".img") as file:
        file.write(data)
        file.flush()
        runs = []
        for _ in range(repeats):
            out = subprocess.run([sys.executable, "-c", _CHILD, file.name], capture_output=True, text=True,
                                 check=True, cwd=REPO_ROOT)
            runs.append(json.loads(out.stdout))
    return {"bytes": len(data), "format": runs[0]["format"], "derivative": runs[0]["derivative"],
            "ms_median": round(median(r["ms"] for r in runs), 1),
            "peak_rss_mb_median": round(median(r["peak_rss_mb"] for r in runs), 1),
            "peak_rss_mb_max": round(max(r["peak_rss_mb"] for r in runs), 1),
            "rss_before_mb_median": round(median(r["before_rss_mb"] for r in runs), 1), "repeats": repeats}


def _max_pixels_png() -> bytes:
    """The worst case the limits admit: a PNG just under MAX_SOURCE_PIXELS, decoded in full (no DCT scaling)."""
    from autotagger.contracts import MAX_SOURCE_PIXELS

    side = int(MAX_SOURCE_PIXELS ** 0.5) - 1
    out = io.BytesIO()
    Image.new("RGB", (side, side), (120, 30, 200)).save(out, "PNG", compress_level=1)
    return out.getvalue()


def _tiny_jpeg() -> bytes:
    """What the process needs besides the image: Python, Pillow, pillow-heif and a trivial decode."""
    out = io.BytesIO()
    Image.new("RGB", (100, 100)).save(out, "JPEG")
    return out.getvalue()


def _labeler(prefer_models: bool) -> tuple[Any, str]:
    if prefer_models:
        from autotagger.models import cache

        if not cache.problems():
            from autotagger.labeler import get_labeler

            return get_labeler("local", concurrent_callers=2), "onnx (local models)"
    from autotagger.labeler.images import decode

    class DecodingLabeler:
        """Rekognition's input rules (autotagger.labeler.images) without a model."""

        def detect_labels(self, image_bytes: bytes, max_labels: int = 100, min_confidence: float = 55.0):
            decode(image_bytes)
            return {"Labels": [], "LabelModelVersion": "decode-only"}

    return DecodingLabeler(), "decode-only (no model: --quick, or the models are not built)"


def _small_images(count: int, mix: bool) -> list[tuple[str, bytes, str]]:
    kinds = [("jpg", "JPEG", "image/jpeg")]
    if mix:
        kinds += [("heic", "HEIF", "image/heic"), ("webp", "WEBP", "image/webp"), ("png", "PNG", "image/png"),
                  ("avif", "AVIF", "image/avif")]
    import pillow_heif

    pillow_heif.register_heif_opener()
    images = []
    for n in range(count):
        ext, fmt, media = kinds[n % len(kinds)]
        out = io.BytesIO()
        Image.fromarray(_photo_pixels(640, 480, seed=n)).save(out, fmt)
        images.append((f"bench/{n}.{ext}", out.getvalue(), media))
    return images


def pipeline_rate(images: list[tuple[str, bytes, str]], labeler: Any) -> dict[str, Any]:
    from autotagger.config import Settings
    from autotagger.local.runtime import Pipeline

    with (tempfile.TemporaryDirectory(prefix="bench-normalize-") as tmp,
          Pipeline(Settings(data_dir=Path(tmp) / "data", workers=2), labeler=labeler) as pipeline):
            start = time.perf_counter()
            for key, data, media in images:
                pipeline.upload(key, data, media)
            if not pipeline.wait_idle(600):
                raise RuntimeError("the pipeline did not settle within 10 minutes")
            seconds = time.perf_counter() - start
            tasks: dict[str, list[str]] = {}
            for execution in pipeline.list_executions(limit=len(images)):
                detail = pipeline.get_execution(execution["arn"]) or {}
                key = detail["input"]["detail"]["object"]["key"]
                tasks[key] = [e["stateEnteredEventDetails"]["name"] for e in detail["history"]
                              if e["type"] == "TaskStateEntered"]
            failed = len(pipeline.list_executions(status="FAILED", limit=len(images)))
    return {"images": len(images), "seconds": round(seconds, 2), "images_per_second": round(len(images) / seconds, 2),
            "failed": failed, "tasks": tasks}


def calls_from_histories(tasks: dict[str, list[str]]) -> dict[str, Any]:
    by_ext: dict[str, list[str]] = {}
    for key, names in tasks.items():
        by_ext.setdefault(key.rsplit(".", 1)[-1], names)
    return {ext: {"tasks": names, "extra_calls": len(names) - 2} for ext, names in sorted(by_ext.items())}


def run(quick: bool = False) -> dict[str, Any]:
    repeats = 1 if quick else 3
    log("normalize: HEIC and 40 MB JPEG in fresh processes")
    per_image = {"heic_12mp": measure(heic_photo(), repeats), "camera_jpeg_40mb": measure(camera_jpeg(), repeats),
                 "max_pixels_png": measure(_max_pixels_png(), repeats),
                 "baseline_python_pillow": measure(_tiny_jpeg(), repeats)}
    labeler, labeler_name = _labeler(prefer_models=not quick)
    for _, data, _ in _small_images(4, mix=False):  # warm-up (model sessions, caches): not on the first run's clock
        labeler.detect_labels(data)
    count = 10 if quick else 40
    log(f"normalize: pipeline, {count} images, JPEG only then mixed ({labeler_name})")
    jpeg_only = pipeline_rate(_small_images(count, mix=False), labeler)
    mixed = pipeline_rate(_small_images(count, mix=True), labeler)
    return {
        "machine": machine(), "labeler": labeler_name, "per_image": per_image,
        "calls": calls_from_histories(mixed["tasks"]),
        "pipeline": {"jpeg_only": {k: v for k, v in jpeg_only.items() if k != "tasks"},
                     "mixed_formats": {k: v for k, v in mixed.items() if k != "tasks"},
                     "mixed_vs_jpeg_only": round(mixed["images_per_second"] / jpeg_only["images_per_second"], 2)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    print(json.dumps(run(quick=parser.parse_args(argv).quick), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
