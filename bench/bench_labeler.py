"""Images per second for the classifier, the detector and the whole local labeler, and peak memory.

`python -m bench.bench_labeler [--rounds N] [--model-dir DIR ...]` prints a table; `run()` returns the
same numbers for the `make bench` aggregator. Several `--model-dir`s (say the built fp32 models and
an int8 copy from scripts/quantize_classifier.py) are measured in one process, round after round in
turn, so a busy machine slows them alike, and printed side by side. Uses the sample photos shipped
in scikit-image and scikit-learn and the models from `autotagger models build`. Model loading is
timed separately: it happens once per process, every later image reuses the sessions.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

import numpy as np

PHOTOS = {
    "astronaut": ("skimage", "astronaut.png"), "chelsea": ("skimage", "chelsea.png"),
    "coffee": ("skimage", "coffee.png"), "rocket": ("skimage", "rocket.jpg"),
    "motorcycle": ("skimage", "motorcycle_left.png"), "horse": ("skimage", "horse.png"),
    "china": ("sklearn", "china.jpg"), "flower": ("sklearn", "flower.jpg"),
}


def sample_photos() -> dict[str, bytes]:
    import skimage
    import sklearn

    roots = {"skimage": Path(skimage.__file__).parent / "data",
             "sklearn": Path(sklearn.__file__).parent / "datasets" / "images"}
    return {name: (roots[package] / file).read_bytes() for name, (package, file) in PHOTOS.items()}


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 2) if seconds > 0 else float("inf")


def _timed(fn, repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return time.perf_counter() - start


def peak_memory_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def run(rounds: int = 3, model_directory: str | None = None) -> dict:
    from autotagger.labeler.classifier import centre_crop
    from autotagger.labeler.detector import preprocess
    from autotagger.labeler.images import decode
    from autotagger.labeler.local import LocalLabeler

    photos = sample_photos()
    images = [decode(data).image for data in photos.values()]
    n = len(images) * rounds

    start = time.perf_counter()
    labeler = LocalLabeler(model_directory)
    load_seconds = time.perf_counter() - start

    crops = np.stack([centre_crop(image) for image in images])
    labeler.classifier.logits(crops[:1])  # warm-up: onnxruntime allocates on first run
    labeler.detector.raw(preprocess(images[0])[None])
    classifier_one = _timed(lambda: [labeler.classifier.logits(crops[i:i + 1]) for i in range(len(crops))], rounds)
    classifier_batch = _timed(lambda: labeler.classifier.logits(crops), rounds)
    detector_inputs = [preprocess(image)[None] for image in images]
    detector_time = _timed(lambda: [labeler.detector.raw(x) for x in detector_inputs], rounds)
    data = list(photos.values())
    labeler_time = _timed(lambda: [labeler.detect_labels(d) for d in data], rounds)
    many_time = _timed(lambda: labeler.detect_labels_many(data), rounds)

    return {
        "model_version": labeler.model_version,
        "photos": len(images),
        "rounds": rounds,
        "threads": os.environ.get("AUTOTAGGER_ONNX_THREADS") or "onnxruntime default",
        "model_load_seconds": round(load_seconds, 3),
        "classifier_images_per_second": _rate(n, classifier_one),
        "classifier_batched_images_per_second": _rate(n, classifier_batch),
        "detector_images_per_second": _rate(n, detector_time),
        "labeler_images_per_second": _rate(n, labeler_time),
        "labeler_batched_images_per_second": _rate(n, many_time),
        "peak_memory_mb": peak_memory_mb(),
    }


ROWS = [("model load (once per process)", "model_load_seconds", "s"),
        ("classifier, one image per run", "classifier_images_per_second", "img/s"),
        ("classifier, batch of 8", "classifier_batched_images_per_second", "img/s"),
        ("detector", "detector_images_per_second", "img/s"),
        ("labeler (decode + both models + scoring)", "labeler_images_per_second", "img/s"),
        ("labeler, detect_labels_many", "labeler_batched_images_per_second", "img/s")]


def compare(directories: list[str], rounds: int) -> list[dict]:
    """Each directory measured `rounds` times, one round of each in turn; each speed is the median
    of its rounds (the machine's load changes between them); model load is the first round's (the
    process keeps the sessions after it)."""
    import statistics

    results: list[list[dict]] = [[] for _ in directories]
    for _ in range(rounds):
        for i, directory in enumerate(directories):
            results[i].append(run(1, directory))
    merged = []
    for per_round in results:
        out = dict(per_round[0], rounds=rounds)
        for _label, key, _unit in ROWS[1:]:
            out[key] = round(statistics.median(r[key] for r in per_round), 3)
        merged.append(out)
    return merged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="passes over the sample photos")
    parser.add_argument("--model-dir", action="append", default=None,
                        help="models to measure (repeat to compare; default: the built models)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    directories = args.model_dir or [None]
    results = [run(args.rounds, directories[0])] if len(directories) == 1 else compare(directories, args.rounds)
    if args.json:
        print(json.dumps(results[0] if len(results) == 1 else results, indent=2))
        return
    first = results[0]
    print(f"labeler benchmark: {first['photos']} sample photos x {first['rounds']} rounds "
          f"(threads: {first['threads']})")
    for i, result in enumerate(results):
        print(f"  [{i + 1}] {result['model_version']}")
    header = "".join(f"{f'[{i + 1}]':>12}" for i in range(len(results)))
    print(f"  {'':<42}{header}")
    for name, key, unit in ROWS:
        values = "".join(f"{f'{r[key]:.1f} {unit}' if unit != 's' else f'{r[key]:.2f} s':>12}" for r in results)
        print(f"  {name:<42}{values}")
    print(f"  {'peak memory (RSS, whole process)':<42}{first['peak_memory_mb']:>9.0f} MB")


if __name__ == "__main__":
    main()
