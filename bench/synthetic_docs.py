"""Realistic index documents for the indexing and query benchmarks.

Labels come from the labeler's mapping table (autotagger/labeler/label_map.json: names, parents,
aliases, categories), drawn with Zipf-like frequencies (a few labels are very common, most are
rare, as in real photo collections), with 1-5 labels per image (plus their parents, as Rekognition
returns them) and event times spread over 90 days.
Records are the stream records the workflow puts on Kinesis, so documents are built by the
project's own `autotagger.domain.documents` code, exactly as the indexer builds them.

Each image also carries the optional analyses (drawn from their own seeded generator, so the labels
stay what they were before them): DetectText finds 1-8 words in TEXT_SHARE of the images (words of
a small Zipf-like vocabulary, as signs and screens repeat a few words), FLAGGED_SHARE have a
moderation label at or above the threshold, ERROR_SHARE a failed optional analysis.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from bench.common import REPO_ROOT

LABEL_MAP = Path(REPO_ROOT) / "autotagger" / "labeler" / "label_map.json"
BUCKET = "image-vaults"
DAYS = 90
ZIPF_EXPONENT = 1.1
MODEL_VERSION = "bench-synthetic-1"
TEXT_SHARE = 0.3
FLAGGED_SHARE = 0.05
ERROR_SHARE = 0.01
TEXT_WORDS = 2000
_FALLBACK = {
    "Person": [],
    "Dog": ["Mammal", "Animal"],
    "Cat": ["Mammal", "Animal"],
    "Car": ["Vehicle"],
    "Tree": ["Plant"],
    "Beach": ["Outdoors"],
    "Food": [],
    "Building": ["Architecture"],
}


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, dict[str, list[str]]]:
    """name -> {"parents", "aliases", "categories"} from the label map, or a small fallback."""
    try:
        labels = json.loads(LABEL_MAP.read_text(encoding="utf-8"))["labels"]
        return {
            name: {
                "parents": list(v.get("parents", [])),
                "aliases": list(v.get("aliases", [])),
                "categories": list(v.get("categories", [])),
            }
            for name, v in labels.items()
        }
    except (OSError, KeyError, ValueError):
        return {name: {"parents": parents, "aliases": [], "categories": []} for name, parents in _FALLBACK.items()}


class DocumentFactory:
    """Deterministic (seeded) generator of stream records and index actions."""

    def __init__(self, seed: int = 7, end: datetime | None = None):
        self.rng = random.Random(seed)
        vocab = vocabulary()
        names = sorted(vocab)
        self.rng.shuffle(names)  # which labels are common is arbitrary but fixed by the seed
        self.names = names
        self.vocab = vocab
        self.cum_weights = list(itertools.accumulate(1.0 / (rank + 1) ** ZIPF_EXPONENT for rank in range(len(names))))
        self.end = end or datetime(2026, 11, 25, tzinfo=UTC)
        self.start = self.end - timedelta(days=DAYS)
        self._sequencer = 0x0062E99A88DC407460

    def _label(self, name: str, confidence: float) -> dict[str, Any]:
        info = self.vocab.get(name, {"parents": [], "aliases": [], "categories": []})
        instances = []
        if self.rng.random() < 0.3:
            w, h = self.rng.uniform(0.1, 0.6), self.rng.uniform(0.1, 0.6)
            instances.append(
                {
                    "BoundingBox": {
                        "Width": w,
                        "Height": h,
                        "Left": self.rng.uniform(0, 1 - w),
                        "Top": self.rng.uniform(0, 1 - h),
                    },
                    "Confidence": confidence,
                }
            )
        return {
            "Name": name,
            "Confidence": confidence,
            "Instances": instances,
            "Parents": [{"Name": p} for p in info["parents"]],
            "Aliases": [{"Name": a} for a in info["aliases"]],
            "Categories": [{"Name": c} for c in info["categories"]],
        }

    def labels(self) -> list[dict[str, Any]]:
        count = self.rng.randint(1, 5)
        chosen: list[str] = []
        while len(chosen) < count:
            name = self.rng.choices(self.names, cum_weights=self.cum_weights)[0]
            if name not in chosen:
                chosen.append(name)
        labels = []
        seen = set()
        for name in chosen:
            confidence = round(self.rng.uniform(50.0, 99.9), 3)
            labels.append(self._label(name, confidence))
            seen.add(name)
            for parent in self.vocab.get(name, {}).get("parents", []):  # Rekognition also returns parents
                if parent not in seen:
                    seen.add(parent)
                    labels.append(self._label(parent, confidence))
        return labels

    def record(self, number: int, key_prefix: str = "raw-image/") -> dict[str, Any]:
        """The stream record (workflow output) of image `number`."""
        self._sequencer += self.rng.randint(1, 4096)
        moment = self.start + timedelta(seconds=self.rng.uniform(0, DAYS * 86400))
        key = f"{key_prefix}IMG_{number:07d}.jpg"
        return {
            "action": "upsert",
            "bucket": BUCKET,
            "key": key,
            "size": self.rng.randint(40_000, 6_000_000),
            "etag": hashlib.md5(key.encode()).hexdigest(),
            "sequencer": f"{self._sequencer:018X}",
            "event_time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "labels": self.labels(),
            "label_model_version": MODEL_VERSION,
            "execution_id": f"arn:aws:states:us-east-1:000000000000:execution:image-tagging:bench-{number}",
        }

    def records(self, count: int, start: int = 0, key_prefix: str = "raw-image/") -> list[dict[str, Any]]:
        return [self.record(start + i, key_prefix) for i in range(count)]


def synthetic_actions(count: int, seed: int = 7, pool: int = 4000) -> list[dict[str, Any]]:
    """`count` upsert actions for distinct images. Label sets come from a pool of `pool` records
    built by the domain code; each image gets its own key, id, time, sequencer and size (building
    100,000 documents through the parser would take longer than indexing them)."""
    from autotagger.domain.documents import document_id

    factory = DocumentFactory(seed)
    templates = actions_from_records(factory.records(min(count, pool), key_prefix="template/"))
    rng = factory.rng
    analyses = AnalysisFactory(seed)
    actions = []
    for number in range(count):
        template = templates[number % len(templates)] if number < len(templates) else rng.choice(templates)
        key = f"raw-image/IMG_{number:07d}.jpg"
        factory._sequencer += rng.randint(1, 4096)
        sequencer = f"{factory._sequencer:018X}"
        moment = factory.start + timedelta(seconds=rng.uniform(0, DAYS * 86400))
        doc_id = document_id(BUCKET, key)
        document = dict(
            template["document"],
            id=doc_id,
            key=key,
            sequencer=sequencer,
            event_time=moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            size=rng.randint(40_000, 6_000_000),
            etag=hashlib.md5(key.encode()).hexdigest(),
            **analyses.fields(),
        )
        actions.append({"action": "upsert", "id": doc_id, "sequencer": sequencer, "document": document})
    return actions


class AnalysisFactory:
    """The documents' text, moderation and analysis errors, built by the domain code from
    Rekognition-shaped DetectText / DetectModerationLabels answers."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed + 1)
        self.words = [f"word{rank}" for rank in range(TEXT_WORDS)]
        self.cum_weights = list(itertools.accumulate(1.0 / (rank + 1) ** ZIPF_EXPONENT for rank in range(TEXT_WORDS)))

    def fields(self) -> dict[str, Any]:
        from autotagger.domain.documents import analysis_fields, moderation_from_rekognition, text_from_rekognition

        rng = self.rng
        box = {"Width": 0.2, "Height": 0.05, "Left": 0.1, "Top": 0.1}
        words = []
        if rng.random() < TEXT_SHARE:
            words = rng.choices(self.words, cum_weights=self.cum_weights, k=rng.randint(1, 8))
        detections = [{"DetectedText": " ".join(words), "Type": "LINE", "Id": 0, "Confidence": 95.0,
                       "Geometry": {"BoundingBox": box}}] if words else []
        detections += [{"DetectedText": word, "Type": "WORD", "Id": n + 1, "ParentId": 0, "Confidence": 95.0,
                        "Geometry": {"BoundingBox": box}} for n, word in enumerate(words)]
        text = {"TextDetections": detections}
        labels = []
        if rng.random() < FLAGGED_SHARE:
            labels = [{"Name": "Violence", "ParentName": "", "TaxonomyLevel": 1, "Confidence": rng.uniform(50.0, 99.0)}]
        failed = rng.random() < ERROR_SHARE
        record = {"text": None if failed else text_from_rekognition(text),
                  "moderation": moderation_from_rekognition({"ModerationLabels": labels}),
                  "analysis_errors": [{"analysis": "text", "error": "Rekognition.ThrottlingException",
                                       "cause": "Rate exceeded"}] if failed else []}
        return analysis_fields(record)


def common_words(actions: list[dict[str, Any]]) -> list[str]:
    """The words of the documents' texts, most frequent first."""
    from collections import Counter

    from autotagger.index.query import words

    counts = Counter(word for action in actions for word in set(words(action["document"].get("text") or "")))
    return [word for word, _ in counts.most_common()]


def actions_from_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ImageIndex actions, built by the project's own domain code (as the indexer does)."""
    from autotagger.domain.documents import action_from_record, parse_record

    indexed_at = datetime.now(UTC)
    return [action_from_record(parse_record(record), indexed_at) for record in records]


def popular_tags(actions: list[dict[str, Any]], top: int = 3) -> list[str]:
    from collections import Counter

    counts = Counter(tag for action in actions for tag in action["document"]["tags"])
    return [tag for tag, _ in counts.most_common(top)]
