"""A user's rules file: rename labels, exclude labels, demand more confidence for some labels.

TOML (or the same structure as JSON):

    exclude = ["Weapon", "Missile"]          # never reported, nor listed as a parent

    [rename]                                 # reported under the new name (merged if it exists)
    "Tiger Cat" = "Cat"
    "Malamute" = "Husky"

    [thresholds]                             # minimum confidence for that label (0-100), on top
    Person = 80                              # of the request's MinConfidence

Names are matched exactly as the labeler writes them (Title Case). Rules apply after renaming:
a threshold or exclusion for "Husky" applies to renamed Malamutes too.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from autotagger.errors import UserError


@dataclass(frozen=True)
class Rules:
    rename: dict[str, str] = field(default_factory=dict)
    exclude: frozenset[str] = frozenset()
    thresholds: dict[str, float] = field(default_factory=dict)

    def name(self, label: str) -> str:
        return self.rename.get(label, label)

    def threshold(self, label: str, min_confidence: float) -> float:
        return max(min_confidence, self.thresholds.get(label, 0.0))


NO_RULES = Rules()


def parse_rules(data: dict, source: str = "rules") -> Rules:
    unknown = set(data) - {"rename", "exclude", "thresholds"}
    if unknown:
        raise UserError(f"{source}: unknown keys {sorted(unknown)} (expected rename, exclude, thresholds)")
    rename = data.get("rename", {})
    exclude = data.get("exclude", [])
    thresholds = data.get("thresholds", {})
    if not isinstance(rename, dict) or not all(isinstance(k, str) and isinstance(v, str) and v.strip()
                                               for k, v in rename.items()):
        raise UserError(f"{source}: rename must map label names to non-empty new names")
    if not isinstance(exclude, list) or not all(isinstance(x, str) for x in exclude):
        raise UserError(f"{source}: exclude must be a list of label names")
    if not isinstance(thresholds, dict):
        raise UserError(f"{source}: thresholds must map label names to numbers")
    for label, value in thresholds.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
            raise UserError(f"{source}: threshold for {label!r} must be a number from 0 to 100")
    return Rules(dict(rename), frozenset(exclude), {k: float(v) for k, v in thresholds.items()})


def load_rules(path: str | Path | None) -> Rules:
    if path is None:
        return NO_RULES
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read rules file {path}: {exc.strerror or exc}") from exc
    is_json = path.suffix.lower() == ".json"
    try:
        data = json.loads(text) if is_json else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"rules file {path} is not valid {'JSON' if is_json else 'TOML'}: {exc}") from exc
    if not isinstance(data, dict):
        raise UserError(f"rules file {path} must hold a table/object")
    return parse_rules(data, str(path))
