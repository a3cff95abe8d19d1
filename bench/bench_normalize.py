"""The normalisation step's cost (issue 13): what it adds per image, and what it needs.

* calls: which tasks an execution runs for each format, counted from the local engine's execution
  histories (TaskStateEntered events, the Parallel state's branches included); an extra call is a
  task that is not one of the analyses (DetectLabels, DetectText, DetectModerationLabels) or
  PutRecord, told apart by the task's Resource in the ASL — a JPEG or PNG that needs nothing must
  have none (no Normalize, no S3 call).
* per image: milliseconds and peak memory (the process's peak RSS, what Lambda's memory setting
  must hold) of normalising a 12 MP HEIC (a phone photo) and a 40 MB camera JPEG, each in a fresh
  process, so one measurement's allocations cannot hide another's.
* pipeline: images per second through the in-process local pipeline with a mix of formats (JPEG,
  PNG, HEIC, WebP, AVIF, GIF and one 40 MB camera JPEG; and the same without the large JPEG)
  versus JPEG only, side by side in every
  repetition (alternating which goes first): the full run with the analysers the settings enable
  (the ONNX labeler when the models are built, Tesseract, NudeNet), the quick pass with a
  decode-only labeler and the optional branches off, where the normalisation's share is largest.

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

from bench.common import REPO_ROOT, compare, log, machine, median, spread

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


WORKERS = 2


def _labeler(prefer_models: bool) -> tuple[Any, str]:
    if prefer_models:
        from autotagger.models import cache

        if not cache.problems():
            from autotagger.labeler import get_labeler

            return get_labeler("local", concurrent_callers=WORKERS), "onnx (local models)"
    from autotagger.labeler.images import decode

    class DecodingLabeler:
        """Rekognition's input rules (autotagger.labeler.images) without a model."""

        def detect_labels(self, image_bytes: bytes, max_labels: int = 100, min_confidence: float = 55.0):
            decode(image_bytes)
            return {"Labels": [], "LabelModelVersion": "decode-only"}

    return DecodingLabeler(), "decode-only (no model: --quick, or the models are not built)"


MIX = (("jpg", "JPEG", "image/jpeg"), ("png", "PNG", "image/png"), ("heic", "HEIF", "image/heic"),
       ("webp", "WEBP", "image/webp"), ("avif", "AVIF", "image/avif"), ("gif", "GIF", "image/gif"))


def _small_images(count: int, mix: bool, size: tuple[int, int] = (640, 480)) -> list[tuple[str, bytes, str]]:
    """`count` photos of `size`: JPEG only, or the formats of MIX in turn."""
    kinds = MIX if mix else MIX[:1]
    import pillow_heif

    pillow_heif.register_heif_opener()
    images = []
    for n in range(count):
        ext, fmt, media = kinds[n % len(kinds)]
        out = io.BytesIO()
        Image.fromarray(_photo_pixels(*size, seed=n)).save(out, fmt)
        images.append((f"bench/{n}.{ext}", out.getvalue(), media))
    return images


def mixed_images(count: int, large_jpeg: bytes) -> list[tuple[str, bytes, str]]:
    """The mix: `count - 1` small photos in the formats of MIX, and one large camera JPEG."""
    return _small_images(count - 1, mix=True) + [(f"bench/{count - 1}-camera.jpg", large_jpeg, "image/jpeg")]


def pipeline_rate(images: list[tuple[str, bytes, str]], labeler: Any, analyses: bool, **detectors: Any
                  ) -> dict[str, Any]:
    """One fresh in-process pipeline: every image uploaded, until the pipeline is idle. `detectors`:
    Pipeline's text_detector / moderation_detector (default: the local ones)."""
    from autotagger.config import Settings
    from autotagger.local.runtime import Pipeline

    optional = {} if analyses else {"detect_text": False, "detect_moderation": False}
    with (tempfile.TemporaryDirectory(prefix="bench-normalize-") as tmp,
          Pipeline(Settings(data_dir=Path(tmp) / "data", workers=WORKERS, **optional), labeler=labeler,
                   **detectors) as pipeline):
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
            summary = pipeline.summary()
    return {"images": len(images), "seconds": round(seconds, 3), "images_per_second": round(len(images) / seconds, 3),
            "failed": failed, "dead_letters": summary.get("dead_letters"), "tasks": tasks}


def task_resources() -> dict[str, str]:
    """Every Task state of the workflow (branches of Parallel and Map states included) -> its Resource."""
    from autotagger.contracts import ASL_FILE

    found: dict[str, str] = {}

    def walk(states: dict[str, Any]) -> None:
        for name, state in states.items():
            if state.get("Type") == "Task":
                found[name] = state["Resource"]
            for branch in state.get("Branches", []):
                walk(branch["States"])
            for key in ("ItemProcessor", "Iterator"):
                if key in state:
                    walk(state[key]["States"])

    walk(json.loads(ASL_FILE.read_text(encoding="utf-8"))["States"])
    return found


def calls_from_histories(tasks: dict[str, list[str]]) -> dict[str, Any]:
    """Per format (by the key's extension; the camera JPEG apart): the tasks its first execution entered,
    the extra calls of any of its executions (tasks other than the analyses and PutRecord, by their
    Resource), how many executions, and whether they all entered the same tasks."""
    from autotagger.local import task_adapters as ta

    every_image = {ta.DETECT_LABELS_ARN, ta.DETECT_TEXT_ARN, ta.DETECT_MODERATION_LABELS_ARN, ta.PUT_RECORD_ARN}
    resources = task_resources()
    by_kind: dict[str, list[list[str]]] = {}
    for key, names in sorted(tasks.items()):
        kind = "large camera jpg" if key.endswith("-camera.jpg") else key.rsplit(".", 1)[-1]
        by_kind.setdefault(kind, []).append(names)
    return {kind: {"tasks": runs[0], "executions": len(runs), "all_alike": all(r == runs[0] for r in runs),
                   "extra_calls": sorted({n for r in runs for n in r if resources.get(n) not in every_image})}
            for kind, runs in by_kind.items()}


def run(quick: bool = False) -> dict[str, Any]:
    from autotagger.config import Settings

    repeats = 1 if quick else 3
    log("normalize: HEIC and 40 MB JPEG in fresh processes")
    large_jpeg = camera_jpeg()
    per_image = {"heic_12mp": measure(heic_photo(), repeats), "camera_jpeg_40mb": measure(large_jpeg, repeats),
                 "max_pixels_png": measure(_max_pixels_png(), repeats),
                 "baseline_python_pillow": measure(_tiny_jpeg(), repeats)}
    labeler, labeler_name = _labeler(prefer_models=not quick)
    # The full run: what the settings enable (as the local runtime); the quick pass: labels only.
    settings = Settings()
    analyses = ["labels"] + ([] if quick else [n for n, on in (("text", settings.detect_text),
                                                              ("moderation", settings.detect_moderation)) if on])
    warm = _small_images(4, mix=False)
    for _, data, _ in warm:  # warm-up (model sessions, caches): not on the first run's clock
        labeler.detect_labels(data)
    if len(analyses) > 1:
        pipeline_rate(warm, labeler, analyses=True)  # builds and warms Tesseract and NudeNet (process-wide)
    count = 14 if quick else 35  # a multiple of the mix's six small formats, plus the camera JPEG
    pipeline_repeats = 2 if quick else 3
    log(f"normalize: pipeline, {count} images, JPEG only and mixed, {pipeline_repeats} repetitions "
        f"({labeler_name}; {', '.join(analyses)})")
    # The mix without the large JPEG too: how much of the difference is the formats, how much one 40 MB photo.
    batches = {"jpeg_only": _small_images(count, mix=False), "mixed_formats": mixed_images(count, large_jpeg),
               "mixed_small_formats": _small_images(count, mix=True)}
    runs: dict[str, list[dict[str, Any]]] = {which: [] for which in batches}
    for rep in range(pipeline_repeats):
        order = list(batches) if rep % 2 == 0 else list(reversed(batches))
        for which in order:
            runs[which].append(pipeline_rate(batches[which], labeler, analyses=len(analyses) > 1))
            log(f"normalize: {which}, repetition {rep + 1}: {runs[which][-1]['images_per_second']} images/s")
    rates = {which: [r["images_per_second"] for r in rs] for which, rs in runs.items()}
    return {
        "machine": machine(), "labeler": labeler_name, "analyses": analyses, "workers": WORKERS,
        "per_image": per_image,
        "calls": calls_from_histories(runs["mixed_formats"][-1]["tasks"]),
        "pipeline": {
            "images": count, "repeats": pipeline_repeats,
            "mix": [ext for ext, _, _ in MIX] + ["one large camera jpg"],
            "large_jpeg_mb": round(len(large_jpeg) / 2**20, 1),
            **{which: {"images_per_second": spread(rates[which]),
                       "failed": max(r["failed"] for r in rs),
                       "dead_letters": rs[-1]["dead_letters"]} for which, rs in runs.items()},
            "mixed_vs_jpeg_only": compare(rates["mixed_formats"], rates["jpeg_only"]),
            "mixed_small_vs_jpeg_only": compare(rates["mixed_small_formats"], rates["jpeg_only"]),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    print(json.dumps(run(quick=parser.parse_args(argv).quick), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
