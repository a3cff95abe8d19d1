"""The one vocabulary both models' classes are mapped onto (label_map.json, generated data).

`scripts/build_label_map.py` writes label_map.json from WordNet, ImageNet's and COCO's class
lists and a curated roll-up table; this module only reads it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

LABEL_MAP = Path(__file__).with_name("label_map.json")


@dataclass(frozen=True)
class LabelInfo:
    name: str
    parents: tuple[str, ...]  # most specific first
    aliases: tuple[str, ...]
    categories: tuple[str, ...]


class Vocabulary:
    def __init__(self, data: dict):
        self.labels = {name: LabelInfo(name, tuple(v["parents"]), tuple(v["aliases"]), tuple(v["categories"]))
                       for name, v in data["labels"].items()}
        self.imagenet = [entry["label"] for entry in data["imagenet"]]
        self.coco = [entry["label"] for entry in data["coco"]]
        if len(self.imagenet) != 1000 or len(self.coco) != 80:
            raise ValueError("label map must cover 1000 ImageNet and 80 COCO classes")
        missing = {n for n in self.imagenet + self.coco if n not in self.labels}
        missing |= {p for info in self.labels.values() for p in info.parents if p not in self.labels}
        if missing:
            raise ValueError(f"label map names labels it does not define: {sorted(missing)[:5]}")
        # how many ImageNet classes each label covers (itself or below it): how much the
        # classifier can say about it
        self.imagenet_classes: dict[str, int] = {}
        for label in self.imagenet:
            for name in dict.fromkeys((label, *self.labels[label].parents)):
                self.imagenet_classes[name] = self.imagenet_classes.get(name, 0) + 1
        # every label either model can give: a class of its own or a parent of one
        self.emittable = frozenset(name for label in self.imagenet + self.coco
                                   for name in (label, *self.labels[label].parents))

    def info(self, name: str) -> LabelInfo:
        return self.labels.get(name) or LabelInfo(name, (), (), ("Everyday Objects",))

    def roots(self, name: str) -> tuple[str, ...]:
        """The top-level labels `name` belongs to (itself when it has no parents): Dog -> Animal."""
        return tuple(n for n in (name, *self.info(name).parents) if not self.info(n).parents)


@lru_cache(maxsize=1)
def default_vocabulary() -> Vocabulary:
    return Vocabulary(json.loads(LABEL_MAP.read_text(encoding="utf-8")))
