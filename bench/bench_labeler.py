"""Images per second for the classifier, the detector and the whole local labeler, and peak memory.

`python -m bench.bench_labeler [--rounds N]` prints a table; `run()` returns the same numbers for
the `make bench` aggregator. Uses the sample photos shipped in scikit-image and scikit-learn and
the models from `autotagger models build`. Model loading is timed separately: it happens once per
process, every later image reuses the sessions.
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


def run(rounds: int = 3) -> dict:
    from autotagger.labeler.classifier import centre_crop
    from autotagger.labeler.detector import preprocess
    from autotagger.labeler.images import decode
    from autotagger.labeler.local import LocalLabeler

    photos = sample_photos()
    images = [decode(data).image for data in photos.values()]
    n = len(images) * rounds

    start = time.perf_counter()
    labeler = LocalLabeler()
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="passes over the sample photos")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.rounds)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"labeler benchmark: {result['photos']} sample photos x {result['rounds']} rounds "
          f"(threads: {result['threads']})")
    rows = [("model load (once per process)", f"{result['model_load_seconds']:.2f} s"),
            ("classifier, one image per run", f"{result['classifier_images_per_second']:.1f} img/s"),
            ("classifier, batch of 8", f"{result['classifier_batched_images_per_second']:.1f} img/s"),
            ("detector", f"{result['detector_images_per_second']:.1f} img/s"),
            ("labeler (decode + both models + scoring)", f"{result['labeler_images_per_second']:.1f} img/s"),
            ("labeler, detect_labels_many", f"{result['labeler_batched_images_per_second']:.1f} img/s"),
            ("peak memory (RSS)", f"{result['peak_memory_mb']:.0f} MB")]
    for name, value in rows:
        print(f"  {name:<42} {value:>12}")


if __name__ == "__main__":
    main()
