"""Precision and recall of the local labeler on real photos, per set and per label family.

`python -m bench.bench_accuracy [--json] [--min-confidence 55]`; `run()` returns the same numbers
for the `make bench` aggregator. The photos and their expected labels are in
tests/labeler/evaluation_photos.json (written down before the labeler ran on them). Two sets are
reported apart: `tuning`, the photos the scoring constants were chosen on, and `evaluation`, which
no constant was chosen on; only the second says how the labeler does on photos it has not seen.

Counting, per photo: a label in `expect` that the labeler gives is a true positive, one it misses
a false negative; a label it gives that is in neither `expect` nor `allow` is a false positive.
Each label counts in one family (objects, animals, plants, scenes, art). A false positive without
parents is a wrong top-level label (an insect called Sea Life): every one is listed.

The recall ceiling is the share of expected labels that either model can give at all (a class of
its own or a parent of one, Vocabulary.emittable): the recall a perfect scoring would reach with
these two models. The labels out of reach are listed (Sky, Tree: no ImageNet or COCO class).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench.common import REPO_ROOT

EXPECTATIONS = Path(REPO_ROOT) / "tests" / "labeler" / "evaluation_photos.json"
FAMILIES = ("objects", "animals", "plants", "scenes", "art")
# issue 15's target on the evaluation set, beside no photo without a label and no wrong top-level label
TARGET_RECALL = 0.8
# Labels whose Rekognition category does not say their family (or that the map does not have).
ART = {"Art", "Painting", "Drawing", "Graffiti", "Modern Art", "Mural", "Cartoon", "Anime", "Illustration",
       "Comics", "Handwriting"}
PLANTS = {"Grass", "Leaf", "Potted Plant", "Lawn", "Hay", "Bamboo", "Aloe", "Dandelion"}
SCENES = {"Outdoors", "Indoors", "Nature", "Sky", "Cloud", "Water", "Sea", "Beach", "Mountain", "Sunset", "Forest",
          "City", "Lake", "Landscape", "Shoreline", "Valley", "Night", "Room", "Street", "Road", "Field", "Meadow",
          "Aerial View", "Urban", "Town", "Neighborhood", "Snow", "Rock", "Stream", "River", "Waterfall"}
CATEGORY_FAMILY = {"Animals and Pets": "animals", "Plants and Flowers": "plants", "Nature and Outdoors": "scenes"}


def family(name: str, vocabulary) -> str:
    if name in ART:
        return "art"
    if name in PLANTS:
        return "plants"
    if name in SCENES:
        return "scenes"
    for category in vocabulary.info(name).categories:
        if category in CATEGORY_FAMILY:
            return CATEGORY_FAMILY[category]
    return "objects"


def photo_path(photo: dict[str, Any]) -> Path:
    if "debian" in photo:
        path = Path(photo["path"])
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: apt-get install {photo['debian']} (make system-packages)")
        return path
    import importlib

    module_file = importlib.import_module(photo["python"]).__file__
    if module_file is None:  # a namespace package: no directory of its own to hold the photo
        raise FileNotFoundError(f"{photo['python']} has no package directory holding {photo['path']}")
    return Path(module_file).parent / photo["path"]


def load_photos() -> list[dict[str, Any]]:
    return json.loads(EXPECTATIONS.read_text(encoding="utf-8"))["photos"]


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 3) if denominator else None


def score(photos: list[dict[str, Any]], answers: dict[str, dict[str, Any]], vocabulary) -> dict[str, Any]:
    """Precision, recall and the wrong top-level labels of `answers` (photo name -> DetectLabels
    response) against the photos' expectations, per set and per family."""
    sets: dict[str, Any] = {}
    for set_name in sorted({p["set"] for p in photos}):
        counts = {f: {"tp": 0, "fp": 0, "fn": 0} for f in FAMILIES}
        wrong_top, unlabelled, misses, extras = [], [], [], []
        chosen = [p for p in photos if p["set"] == set_name]
        for photo in chosen:
            labels = answers[photo["name"]]["Labels"]
            given = {label["Name"]: label for label in labels}
            expect, allow = set(photo["expect"]), set(photo["allow"])
            if not labels:
                unlabelled.append(photo["name"])
            for name in expect:
                counts[family(name, vocabulary)]["tp" if name in given else "fn"] += 1
                if name not in given:
                    misses.append(f"{photo['name']}: {name}")
            for name, label in given.items():
                if name in expect or name in allow:
                    continue
                counts[family(name, vocabulary)]["fp"] += 1
                extras.append(f"{photo['name']}: {name} {label['Confidence']:.0f}")
                if not label["Parents"]:
                    wrong_top.append(f"{photo['name']}: {name} {label['Confidence']:.0f}")
        per_family = {f: {"precision": _ratio(c["tp"], c["tp"] + c["fp"]), "recall": _ratio(c["tp"], c["tp"] + c["fn"]),
                          **c} for f, c in counts.items()}
        total = {k: sum(c[k] for c in counts.values()) for k in ("tp", "fp", "fn")}
        expected = [(p["name"], name) for p in chosen for name in p["expect"]]
        unreachable = [f"{photo}: {name}" for photo, name in expected if name not in vocabulary.emittable]
        sets[set_name] = {
            "photos": len(chosen),
            "precision": _ratio(total["tp"], total["tp"] + total["fp"]),
            "recall": _ratio(total["tp"], total["tp"] + total["fn"]),
            **total,
            "families": per_family,
            "recall_ceiling": _ratio(len(expected) - len(unreachable), len(expected)),
            "out_of_reach": unreachable,
            "photos_without_labels": unlabelled,
            "photos_without_labels_count": len(unlabelled),
            "wrong_top_level_labels_count": len(wrong_top),
            "wrong_top_level_labels": wrong_top,
            "missed_labels": misses,
            "false_positives": extras,
        }
    return sets


def run(min_confidence: float = 55.0, model_directory: str | None = None) -> dict[str, Any]:
    from autotagger.labeler.local import LocalLabeler

    photos = load_photos()
    labeler = LocalLabeler(model_directory)
    answers = {p["name"]: labeler.detect_labels(photo_path(p).read_bytes(), min_confidence=min_confidence)
               for p in photos}
    return {"min_confidence": min_confidence, "model_version": labeler.model_version, "target_recall": TARGET_RECALL,
            "sets": score(photos, answers, labeler.vocabulary),
            "answers": {name: [f"{label['Name']} {label['Confidence']:.0f}" for label in answer["Labels"]]
                        for name, answer in answers.items()}}


def render(result: dict[str, Any]) -> str:
    lines = [f"labeler accuracy at MinConfidence {result['min_confidence']:g}"]
    for set_name, figures in result["sets"].items():
        lines.append(f"\n{set_name}: {figures['photos']} photos, precision {figures['precision']}, "
                     f"recall {figures['recall']}")
        lines.append(f"  {'family':<8} {'precision':>9} {'recall':>7} {'tp':>4} {'fp':>4} {'fn':>4}")
        for name, c in figures["families"].items():
            lines.append(f"  {name:<8} {c['precision']!s:>9} {c['recall']!s:>7} {c['tp']:>4} {c['fp']:>4} {c['fn']:>4}")
        lines.append(f"  recall ceiling (expected labels either model can give at all): {figures['recall_ceiling']}; "
                     f"out of reach: {'; '.join(figures['out_of_reach']) or 'none'}")
        lines.append(f"  photos without labels: {', '.join(figures['photos_without_labels']) or 'none'}")
        lines.append(f"  wrong top-level labels: {'; '.join(figures['wrong_top_level_labels']) or 'none'}")
        lines.append(f"  missed: {'; '.join(figures['missed_labels']) or 'none'}")
        lines.append(f"  other false positives: {'; '.join(figures['false_positives']) or 'none'}")
    return "\n".join(lines)


def section(quick: bool) -> dict[str, Any]:
    """The `make bench` section: the figures, also printed (the report generator does not know them)."""
    result = run()
    print(render(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-confidence", type=float, default=55.0)
    parser.add_argument("--model-dir", default=None)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--answers", action="store_true", help="also print every photo's labels")
    args = parser.parse_args()
    result = run(args.min_confidence, args.model_dir)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(render(result))
    if args.answers:
        for name, labels in result["answers"].items():
            print(f"  {name}: {', '.join(labels)}")


if __name__ == "__main__":
    main()
