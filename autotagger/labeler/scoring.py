"""Merges classifier and detector evidence into one DetectLabels-shaped answer.

How confidences are formed (0-1 internally, 0-100 in the answer):
- classifier: a label's evidence is the probability mass of every ImageNet class mapped to it or
  below it (Cat = Tiger Cat + Tabby + Egyptian Mau + ...), so a parent's is at least its child's;
- detector: CenterNet's heatmap peaks run low (a clear, lone person scores about 0.6), so a peak
  p is reported as sqrt(p); boxes under 1% of the picture (about 50 px of the model's 512) are
  scaled down by sqrt(area / 1%), as such peaks were mostly noise on the sample photos (birds in
  a roof's ornaments, a clock in the sky); a label's evidence is its best instance, also given
  to its parents;
- both: independent evidence for the same label is combined as 1 - (1 - c)(1 - d);
- a detector box whose class the classifier finds implausible (under 5%) is relabelled to a
  sibling COCO class (one sharing a parent) when the classifier is sure of it (50% or more) and
  the detector itself proposed that class for the same box: CenterNet calls many cats dogs, with
  "cat" as its runner-up, and the classifier knows better. Only large boxes (a quarter of the
  picture or more) are relabelled, since the classifier sees the picture's centre, not a small
  object in a corner;
- a large box (the same quarter of the picture) is dropped when the classifier gives its label's
  top-level family under 5% (IMPLAUSIBLE again) and ImageNet covers that family with at least
  JUDGED_FAMILY_CLASSES classes: a painting's swirls read as a dog, a butterfly's wing as a cake, a
  coffee cup's saucer as a dining table, while the classifier, which sees that very picture and
  knows 399 animals, 27 foods and 22 kinds of furniture, found none. Families ImageNet hardly
  covers (Person: three classes, a ballplayer, a groom and a diver) are left to the detector;
- finally every parent is raised to at least its best child, rules are applied, labels under
  the threshold are dropped and the rest sorted by confidence.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np

from autotagger.labeler.detector import Detection
from autotagger.labeler.rules import NO_RULES, Rules
from autotagger.labeler.vocabulary import Vocabulary

CLASSIFIER_FLOOR = 0.005
IMPLAUSIBLE = 0.05
SURE = 0.5
RELABEL_MIN_AREA = 0.25


SMALL_BOX = 0.01
# Chosen on the tuning photos: Person (3 ImageNet classes) must stay unjudged (the astronaut),
# Furniture (22) judged (the coffee's saucer read as a dining table); 4 to 22 did the same there.
JUDGED_FAMILY_CLASSES = 10


def detector_confidence(det: Detection) -> float:
    confidence = math.sqrt(max(0.0, min(1.0, det.score)))
    if det.area < SMALL_BOX:
        confidence *= math.sqrt(det.area / SMALL_BOX)
    return confidence


def classifier_evidence(probabilities: np.ndarray, vocab: Vocabulary) -> dict[str, float]:
    evidence: dict[str, float] = defaultdict(float)
    for index in np.flatnonzero(probabilities >= CLASSIFIER_FLOOR):
        label = vocab.imagenet[index]
        p = float(probabilities[index])
        for name in dict.fromkeys((label, *vocab.info(label).parents)):
            evidence[name] += p
    return {name: min(1.0, p) for name, p in evidence.items()}


def _detector_label(det: Detection, classifier: dict[str, float], vocab: Vocabulary) -> str:
    label = vocab.coco[det.class_index]
    if classifier.get(label, 0.0) >= IMPLAUSIBLE or det.area < RELABEL_MIN_AREA:
        return label
    family = set(vocab.info(label).parents)
    proposed = {vocab.coco[i] for i in det.alternatives}
    rivals = [(classifier.get(other, 0.0), other) for other in proposed
              if other != label and family & set(vocab.info(other).parents)]
    best = max(rivals, default=(0.0, label))
    return best[1] if best[0] >= SURE else label


def contradicted(label: str, det: Detection, classifier: dict[str, float], vocab: Vocabulary) -> bool:
    """A large box of a family the classifier knows well but found nothing of (see the module doc)."""
    if det.area < RELABEL_MIN_AREA:
        return False
    judged = [root for root in vocab.roots(label) if vocab.imagenet_classes.get(root, 0) >= JUDGED_FAMILY_CLASSES]
    return bool(judged) and all(classifier.get(root, 0.0) < IMPLAUSIBLE for root in judged)


def _box(det: Detection) -> dict[str, float]:
    return {"Width": round(det.width, 6), "Height": round(det.height, 6),
            "Left": round(det.left, 6), "Top": round(det.top, 6)}


def build_response(probabilities: np.ndarray | None, detections: Iterable[Detection], vocab: Vocabulary,
                   *, max_labels: int, min_confidence: float, model_version: str,
                   rules: Rules = NO_RULES) -> dict[str, Any]:
    classifier = classifier_evidence(probabilities, vocab) if probabilities is not None else {}
    instances: dict[str, list[tuple[float, Detection]]] = defaultdict(list)
    detector: dict[str, float] = defaultdict(float)
    for det in detections:
        label = _detector_label(det, classifier, vocab)
        if probabilities is not None and contradicted(label, det, classifier, vocab):
            continue
        confidence = detector_confidence(det)
        instances[label].append((confidence, det))
        for name in (label, *vocab.info(label).parents):
            detector[name] = max(detector[name], confidence)

    combined = {name: 1.0 - (1.0 - classifier.get(name, 0.0)) * (1.0 - detector.get(name, 0.0))
                for name in set(classifier) | set(detector)}
    for name, confidence in list(combined.items()):
        for parent in vocab.info(name).parents:
            combined[parent] = max(combined.get(parent, 0.0), confidence)

    # rules: rename (merging), then exclude and thresholds on the final names
    merged: dict[str, float] = {}
    merged_instances: dict[str, list[tuple[float, Detection]]] = defaultdict(list)
    sources: dict[str, list[str]] = defaultdict(list)
    for name, confidence in combined.items():
        final = rules.name(name)
        merged[final] = max(merged.get(final, 0.0), confidence)
        merged_instances[final].extend(instances.get(name, []))
        sources[final].append(name)

    labels: list[dict[str, Any]] = []
    for name, confidence in merged.items():
        threshold = rules.threshold(name, min_confidence)
        if name in rules.exclude or confidence * 100.0 < threshold:
            continue
        info = vocab.info(name if name in vocab.labels else sources[name][0])
        parents = [p for p in dict.fromkeys(rules.name(p) for p in info.parents)
                   if p != name and p not in rules.exclude]
        boxes = sorted(((c, d) for c, d in merged_instances[name] if c * 100.0 >= threshold),
                       key=lambda item: -item[0])
        labels.append({
            "Name": name,
            "Confidence": round(confidence * 100.0, 3),
            "Instances": [{"BoundingBox": _box(d), "Confidence": round(c * 100.0, 3)} for c, d in boxes],
            "Parents": [{"Name": p} for p in parents],
            "Aliases": [{"Name": a} for a in info.aliases],
            "Categories": [{"Name": c} for c in info.categories],
        })
    labels.sort(key=lambda label: (-label["Confidence"], label["Name"]))
    return {"Labels": labels[:max_labels], "LabelModelVersion": model_version}
