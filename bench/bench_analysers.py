"""CPU per image of each local analyser (issue 14): the labeler (DetectLabels), Tesseract
(DetectText) and NudeNet (DetectModerationLabels), on the repository's real photos
(tests/labeler/evaluation_photos.json), and how many drawn signs Tesseract reads.

CPU is user + system time of this process (every thread) plus that of the processes it waited
for (Tesseract runs as one per call), so the three analysers are measured the same way. In each
repetition the three run one after the other over the same photos, so their ratios to the
labeler compare figures taken side by side; the report gives the ratio of the medians and the
worst repetition (for a cost, the highest ratio). One call at a time, each analyser as the local
runtime builds it for one caller (onnxruntime on every core, Tesseract on one thread: CPU time
counts either way); the pipeline's concurrency is bench_pipeline's.

    python -m bench.bench_analysers [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import REPO_ROOT, log, machine, median, spread

EVALUATION_PHOTOS = Path(REPO_ROOT) / "tests" / "labeler" / "evaluation_photos.json"
SIGN_PHOTOS = ("bridge-sky", "aitzgorri", "two-dogs", "palace-birds", "citrus-fruits", "forest-stream")
SIGNS = (("HARBOUR", (0.1, 0.1), (10, 40, 120), (250, 250, 245)),  # dark on a light plate, three places
         ("HARBOUR", (0.35, 0.45), (10, 40, 120), (250, 250, 245)),
         ("EXIT 12", (0.3, 0.65), (255, 255, 255), (20, 90, 40)))  # light on a dark plate


def photos(limit: int | None = None) -> dict[str, bytes]:
    from tests.analysers.signs import photo_paths

    paths = photo_paths()
    names = list(paths)[:limit] if limit else list(paths)
    return {name: paths[name].read_bytes() for name in names}


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _per_image(call: Callable[[bytes], Any], images: list[bytes]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) per image of `call` over `images`."""
    cpu, wall = _cpu(), time.perf_counter()
    for data in images:
        call(data)
    return (_cpu() - cpu) / len(images), (time.perf_counter() - wall) / len(images)


def signs_read(detector: Any, sign_photos: tuple[str, ...]) -> dict[str, Any]:
    """How many of the drawn signs (SIGNS on each photo) come back as a LINE holding their first word."""
    from tests.analysers.signs import draw_sign, photo_paths

    paths = photo_paths()
    read, missed = 0, []
    for name in sign_photos:
        for text, at, ink, plate in SIGNS:
            data, _ = draw_sign(paths[name], text, at, ink=ink, plate=plate)
            found = [d["DetectedText"] for d in detector.detect_text(data)["TextDetections"] if d["Type"] == "LINE"]
            if any(text.split()[0] in line for line in found):
                read += 1
            else:
                missed.append(f"{name}: {text} at {at}")
    return {"read": read, "drawn": len(sign_photos) * len(SIGNS), "missed": missed}


def _ratios(cost: list[float], baseline: list[float]) -> dict[str, Any] | None:
    """cost / baseline per repetition and of the medians; the worst repetition is the highest ratio."""
    pairs = [c / b for c, b in zip(cost, baseline, strict=True) if b]
    if not pairs:
        return None
    return {"ratio_of_medians": round(median(cost) / median(baseline), 3), "per_repetition": spread(pairs),
            "worst_repetition": round(max(pairs), 3)}


def run(quick: bool = False) -> dict[str, Any]:
    from autotagger.labeler.moderation import NudeNetModerationDetector
    from autotagger.labeler.text import TesseractTextDetector
    from autotagger.models import cache

    images = photos(12 if quick else None)
    repetitions = 2 if quick else 3
    loaded: dict[str, float] = {}
    analysers: dict[str, Callable[[bytes], Any]] = {}
    if not cache.problems():
        from autotagger.labeler.local import LocalLabeler

        start = time.perf_counter()
        labeler = LocalLabeler()
        loaded["labels"] = time.perf_counter() - start
        analysers["labels"] = labeler.detect_labels
    else:
        log("analysers: no ONNX models (autotagger models build): the labeler is left out")
    start = time.perf_counter()
    text = TesseractTextDetector()
    loaded["text"] = time.perf_counter() - start
    start = time.perf_counter()
    moderation = NudeNetModerationDetector()
    loaded["moderation"] = time.perf_counter() - start
    analysers["text"] = text.detect_text
    analysers["moderation"] = moderation.detect_moderation_labels

    data = list(images.values())
    for call in analysers.values():  # warm-up: onnxruntime allocates on its first run, the page cache fills
        call(data[0])
    cpu: dict[str, list[float]] = {name: [] for name in analysers}
    wall: dict[str, list[float]] = {name: [] for name in analysers}
    for repetition in range(repetitions):
        for name, call in analysers.items():
            c, w = _per_image(call, data)
            cpu[name].append(c)
            wall[name].append(w)
        log(f"analysers: repetition {repetition + 1}/{repetitions}: "
            + ", ".join(f"{n} {cpu[n][-1] * 1000:.0f} ms CPU" for n in analysers))
    result: dict[str, Any] = {
        "photos": len(data), "repetitions": repetitions,
        "model_versions": {"text": text.model_version, "moderation": moderation.model_version,
                           **({"labels": labeler.model_version} if "labels" in analysers else {})},
        "load_seconds": {k: round(v, 3) for k, v in loaded.items()},
        "cpu_ms_per_image": {n: spread([v * 1000 for v in runs]) for n, runs in cpu.items()},
        "wall_ms_per_image": {n: spread([v * 1000 for v in runs]) for n, runs in wall.items()},
        "signs": signs_read(text, SIGN_PHOTOS[:2] if quick else SIGN_PHOTOS),
    }
    if "labels" in analysers:
        result["cpu_relative_to_labeler"] = {n: _ratios(cpu[n], cpu["labels"]) for n in ("text", "moderation")}
        all_three = [sum(cpu[n][i] for n in analysers) for i in range(repetitions)]
        result["cpu_relative_to_labeler"]["all_three"] = _ratios(all_three, cpu["labels"])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="12 photos, 2 repetitions, 6 drawn signs")
    args = parser.parse_args()
    print(json.dumps({"machine": machine(), "analysers": run(quick=args.quick)}, indent=2))


if __name__ == "__main__":
    main()
