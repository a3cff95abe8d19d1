"""Stream record -> index document, and the ordering rule that keeps the index convergent.

Kinesis delivers at least once and S3 events can arrive out of order, so every write to the index
is conditional on the S3 sequencer of the event that produced it. This module owns that rule
(`sequencer_key`, `supersedes`) so the SQLite and OpenSearch adapters apply the very same one.
"""

from __future__ import annotations

import hashlib
import json
import math
import string
from datetime import UTC, datetime
from typing import Any

DISPLAY_THRESHOLD = 55.0
"""Labels at or above this confidence become `tags` (Rekognition's own default MinConfidence)."""

SEQUENCER_WIDTH = 64
"""S3 sequencers are hex strings of varying length; padded to this width they compare as strings."""

_HEX = frozenset(string.hexdigits)


class MalformedRecord(ValueError):
    """A stream record that no retry can fix: it is reported, never indexed."""


def document_id(bucket: str, key: str) -> str:
    """Stable id per object, so re-uploading a key updates one document instead of adding one."""
    return hashlib.sha256(f"{bucket}/{key}".encode()).hexdigest()[:40]


def sequencer_key(sequencer: str) -> str:
    """The sequencer left-padded with zeros, upper case: AWS's documented way to compare two.

    Raises MalformedRecord for anything that is not a hex string of at most SEQUENCER_WIDTH digits.
    """
    if not isinstance(sequencer, str) or not sequencer or not set(sequencer) <= _HEX:
        raise MalformedRecord(f"sequencer must be a non-empty hex string, got {sequencer!r}")
    if len(sequencer) > SEQUENCER_WIDTH:
        raise MalformedRecord(f"sequencer longer than {SEQUENCER_WIDTH} hex digits: {sequencer!r}")
    return sequencer.upper().rjust(SEQUENCER_WIDTH, "0")


def supersedes(new_sequencer: str, stored_sequencer: str | None) -> bool:
    """True when an event may replace the stored state.

    Equal sequencers win too: that is the same S3 event again (a stream retry or a redrive after
    re-tagging), and writing it again is idempotent.
    """
    if stored_sequencer is None:
        return True
    return sequencer_key(new_sequencer) >= sequencer_key(stored_sequencer)


def parse_time(value: Any) -> datetime:
    """ISO 8601 with an offset or `Z` -> aware UTC datetime (naive values are taken as UTC)."""
    if not isinstance(value, str) or not value:
        raise MalformedRecord(f"time must be an ISO 8601 string, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise MalformedRecord(f"not an ISO 8601 time: {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_time(moment: datetime) -> str:
    """UTC, second precision unless there are sub-seconds, `Z` suffix: sortable as text."""
    moment = moment.astimezone(UTC)
    text = moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def _names(items: Any) -> list[str]:
    return [item["Name"] for item in items or [] if isinstance(item, dict) and isinstance(item.get("Name"), str)]


def _confidence(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise MalformedRecord(f"{where}: confidence must be a number, got {value!r}")
    return float(value)


def _bounding_box(box: Any) -> dict[str, float] | None:
    if not isinstance(box, dict):
        return None
    return {name.lower(): float(box.get(name, 0.0)) for name in ("Width", "Height", "Left", "Top")}


def labels_from_rekognition(labels: Any) -> list[dict[str, Any]]:
    """Rekognition `Labels` -> the index's snake_case labels (name, confidence, parents, ...)."""
    if not isinstance(labels, list):
        raise MalformedRecord(f"labels must be a list, got {type(labels).__name__}")
    result = []
    for position, label in enumerate(labels):
        if not isinstance(label, dict) or not isinstance(label.get("Name"), str) or not label["Name"]:
            raise MalformedRecord(f"label {position} has no Name")
        instances = []
        for instance in label.get("Instances") or []:
            if not isinstance(instance, dict):
                continue
            entry: dict[str, Any] = {"confidence": _confidence(instance.get("Confidence", 0.0), label["Name"])}
            box = _bounding_box(instance.get("BoundingBox"))
            if box is not None:
                entry["bounding_box"] = box
            instances.append(entry)
        result.append({
            "name": label["Name"],
            "confidence": _confidence(label.get("Confidence"), label["Name"]),
            "parents": _names(label.get("Parents")),
            "categories": _names(label.get("Categories")),
            "aliases": _names(label.get("Aliases")),
            "instances": instances,
        })
    return result


def tag_confidences(labels: list[dict[str, Any]], threshold: float = DISPLAY_THRESHOLD) -> dict[str, float]:
    """Tag -> its label's confidence, for labels at or above the threshold, most confident first."""
    best: dict[str, float] = {}
    for label in labels:
        if label["confidence"] >= threshold and label["confidence"] > best.get(label["name"], -1.0):
            best[label["name"]] = label["confidence"]
    return dict(sorted(best.items(), key=lambda item: -item[1]))  # stable: ties keep the labeler's order


def tags_from_labels(labels: list[dict[str, Any]], threshold: float = DISPLAY_THRESHOLD) -> list[str]:
    """Label names at or above the display threshold, most confident first, each once."""
    return list(tag_confidences(labels, threshold))


def parse_record(data: bytes | str | dict[str, Any]) -> dict[str, Any]:
    """Validates a stream record (the JSON the workflow puts on Kinesis) and normalises it."""
    if isinstance(data, (bytes, bytearray)):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedRecord("record data is not UTF-8") from exc
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise MalformedRecord(f"record data is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise MalformedRecord("record must be a JSON object")
    action = data.get("action")
    if action not in ("upsert", "delete"):
        raise MalformedRecord(f"action must be 'upsert' or 'delete', got {action!r}")
    for field in ("bucket", "key"):
        if not isinstance(data.get(field), str) or not data[field]:
            raise MalformedRecord(f"{field} must be a non-empty string")
    record = {
        "action": action,
        "bucket": data["bucket"],
        "key": data["key"],
        "sequencer": data.get("sequencer"),
        "event_time": format_time(parse_time(data.get("event_time"))),
        "execution_id": data.get("execution_id"),
    }
    sequencer_key(record["sequencer"])
    if action == "upsert":
        size = data.get("size")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise MalformedRecord(f"size must be a non-negative integer, got {size!r}")
        etag = data.get("etag")
        if etag is not None and not isinstance(etag, str):
            raise MalformedRecord("etag must be a string")
        version = data.get("label_model_version")
        if version is not None and not isinstance(version, str):
            raise MalformedRecord("label_model_version must be a string")
        record.update(size=size, etag=etag, label_model_version=version,
                      labels=labels_from_rekognition(data.get("labels")), analysis=_analysis(data.get("analysis")),
                      text=text_from_rekognition(data.get("text")),
                      moderation=moderation_from_rekognition(data.get("moderation")),
                      analysis_errors=_analysis_errors(data.get("analysis_errors")))
    return record


def _ratio_box(box: Any, where: str) -> dict[str, float]:
    if not isinstance(box, dict):
        raise MalformedRecord(f"{where}: Geometry.BoundingBox must be an object")
    sides = {}
    for name in ("Left", "Top", "Width", "Height"):
        value = box.get(name, 0.0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise MalformedRecord(f"{where}: BoundingBox.{name} must be a number, got {value!r}")
        sides[name.lower()] = float(value)
    return sides


def text_from_rekognition(answer: Any) -> dict[str, Any] | None:
    """DetectText's answer ({"TextDetections", "TextModelVersion"}) -> {"text", "words"}; None when
    the text analysis did not run (switched off, failed, or a record from before it existed).

    `text` is the LINE detections joined by newlines in Rekognition's order (what a search matches);
    `words` are the WORD detections with their boxes as ratios of the image, for the viewer."""
    if answer is None:
        return None
    if not isinstance(answer, dict) or not isinstance(answer.get("TextDetections"), list):
        raise MalformedRecord("text must be DetectText's answer: an object with a TextDetections list")
    lines: list[str] = []
    words: list[dict[str, Any]] = []
    for position, detection in enumerate(answer["TextDetections"]):
        where = f"text detection {position}"
        if not isinstance(detection, dict) or not isinstance(detection.get("DetectedText"), str):
            raise MalformedRecord(f"{where} has no DetectedText")
        if detection.get("Type") == "LINE":
            lines.append(detection["DetectedText"])
        elif detection.get("Type") == "WORD":
            words.append({"text": detection["DetectedText"],
                          "confidence": _confidence(detection.get("Confidence"), where),
                          "box": _ratio_box((detection.get("Geometry") or {}).get("BoundingBox"), where)})
        else:
            raise MalformedRecord(f"{where}: Type must be LINE or WORD, got {detection.get('Type')!r}")
    return {"text": "\n".join(lines), "words": words}


def moderation_from_rekognition(answer: Any) -> dict[str, Any] | None:
    """DetectModerationLabels' answer -> {"labels": [...], "max_confidence"} (0.0 without labels);
    None when the moderation analysis did not run."""
    if answer is None:
        return None
    if not isinstance(answer, dict) or not isinstance(answer.get("ModerationLabels"), list):
        raise MalformedRecord("moderation must be DetectModerationLabels' answer: an object with a "
                              "ModerationLabels list")
    labels = []
    for position, label in enumerate(answer["ModerationLabels"]):
        if not isinstance(label, dict) or not isinstance(label.get("Name"), str) or not label["Name"]:
            raise MalformedRecord(f"moderation label {position} has no Name")
        labels.append({"name": label["Name"], "parent_name": label.get("ParentName") or "",
                       "taxonomy_level": label.get("TaxonomyLevel"),
                       "confidence": _confidence(label.get("Confidence"), label["Name"])})
    return {"labels": labels, "max_confidence": max((label["confidence"] for label in labels), default=0.0)}


def _analysis_errors(errors: Any) -> list[dict[str, str]]:
    """The optional analyses that failed: [{"analysis", "error", "cause"}] (the branch's Catch)."""
    if errors is None:
        return []
    if not isinstance(errors, list) or not all(isinstance(e, dict) and isinstance(e.get("analysis"), str)
                                               for e in errors):
        raise MalformedRecord("analysis_errors must be a list of {analysis, error, cause} objects")
    return [{"analysis": e["analysis"], "error": str(e.get("error") or ""), "cause": str(e.get("cause") or "")}
            for e in errors]


_NORMALIZED_FIELDS = ("source_format", "frames", "analyzed_frame", "orientation", "width", "height")


def _analysis(analysis: Any) -> dict[str, Any] | None:
    """Which object was analysed: the original, or the Normalize task's derivative and what it did."""
    if analysis is None:
        return None  # records from before normalisation: the original was analysed
    if not isinstance(analysis, dict) or not isinstance(analysis.get("key"), str) or not analysis["key"]:
        raise MalformedRecord("analysis must be an object with the analysed key")
    result: dict[str, Any] = {"key": analysis["key"]}
    if analysis.get("normalized") is True:
        result["normalized"] = {name: analysis[name] for name in _NORMALIZED_FIELDS if name in analysis}
    return result


def build_document(record: dict[str, Any], indexed_at: datetime,
                   threshold: float = DISPLAY_THRESHOLD) -> dict[str, Any]:
    """The index document for an upsert record (see docs/architecture.md, Index document)."""
    text = record.get("text")
    return {
        "id": document_id(record["bucket"], record["key"]),
        "bucket": record["bucket"],
        "key": record["key"],
        "labels": record["labels"],
        "tags": tags_from_labels(record["labels"], threshold),
        "label_model_version": record.get("label_model_version"),
        "size": record["size"],
        "etag": record.get("etag"),
        "sequencer": record["sequencer"],
        "event_time": record["event_time"],
        "indexed_at": format_time(indexed_at),
        # The identity stays the original's key; this names the object the labels were detected
        # on (a normalised derivative: its format, frame count (the first frame is analysed),
        # the EXIF orientation applied and its size).
        "analyzed_key": (record.get("analysis") or {}).get("key", record["key"]),
        **({"normalized": record["analysis"]["normalized"]} if (record.get("analysis") or {}).get("normalized")
           else {}),
        # The optional analyses (issue 14): null when not run, so "nothing found" ("" / no labels)
        # stays distinguishable from "not analysed".
        "text": text["text"] if text else None,
        "text_words": text["words"] if text else [],
        "moderation": record.get("moderation"),
        "analysis_errors": record.get("analysis_errors") or [],
    }


def build_tombstone(doc_id: str, sequencer: str, indexed_at: datetime, **fields: Any) -> dict[str, Any]:
    """What a delete leaves behind: the sequencer, so a late older upsert cannot resurrect the image."""
    tombstone = {"id": doc_id, "deleted": True, "sequencer": sequencer, "labels": [], "tags": [],
                 "indexed_at": format_time(indexed_at)}
    tombstone.update({name: value for name, value in fields.items() if value is not None})
    return tombstone


def action_from_record(record: dict[str, Any], indexed_at: datetime,
                       threshold: float = DISPLAY_THRESHOLD) -> dict[str, Any]:
    """A parsed record -> an ImageIndex action; deletes carry their tombstone as `document`."""
    doc_id = document_id(record["bucket"], record["key"])
    if record["action"] == "upsert":
        document = build_document(record, indexed_at, threshold)
    else:
        document = build_tombstone(doc_id, record["sequencer"], indexed_at, bucket=record["bucket"],
                                   key=record["key"], event_time=record["event_time"])
    return {"action": record["action"], "id": doc_id, "sequencer": record["sequencer"], "document": document}


def tombstone_for(action: dict[str, Any], indexed_at: datetime) -> dict[str, Any]:
    """The tombstone of a delete action, also for bare ones ({"action", "id", "sequencer"})."""
    given = action.get("document") or {}
    fields = {name: given.get(name) for name in ("bucket", "key", "event_time")}
    return build_tombstone(action["id"], action["sequencer"], indexed_at, **fields)


def resolve_within_batch(actions: list[dict[str, Any]]) -> tuple[dict[str, int], dict[int, str]]:
    """Picks, per document id, the one action of a batch that can win.

    Returns (id -> position of the winning action, position -> "stale" for the losers). Among
    equal sequencers the later position wins, as it would if they were applied one by one.
    """
    winners: dict[str, int] = {}
    stale: dict[int, str] = {}
    for position, action in enumerate(actions):
        current = winners.get(action["id"])
        if current is None:
            winners[action["id"]] = position
        elif supersedes(action["sequencer"], actions[current]["sequencer"]):
            stale[current] = "stale"
            winners[action["id"]] = position
        else:
            stale[position] = "stale"
    return winners, stale
