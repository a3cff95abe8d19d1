"""Stream record -> index document, and the ordering rule that keeps the index convergent.

Kinesis delivers at least once and S3 events can arrive out of order, so every write to the index
is conditional on the S3 sequencer of the event that produced it. This module owns that rule
(`sequencer_key`, `supersedes`, and `decide` for re-tags, which carry no sequencer) so the SQLite
and OpenSearch adapters apply the very same one, also within a batch (`resolve_batch`).
"""

from __future__ import annotations

import hashlib
import json
import math
import string
from datetime import UTC, datetime
from typing import Any

from autotagger.contracts import MODERATION_THRESHOLD, OPTIONAL_ANALYSES, RETAG_SEQUENCER

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
        etag = _etag(etag)
        version = data.get("label_model_version")
        if version is not None and not isinstance(version, str):
            raise MalformedRecord("label_model_version must be a string")
        record.update(size=size, etag=etag, label_model_version=version,
                      labels=labels_from_rekognition(data.get("labels")), analysis=_analysis(data.get("analysis")),
                      text=text_from_rekognition(data.get("text")),
                      moderation=moderation_from_rekognition(data.get("moderation")),
                      analysis_errors=_analysis_errors(data.get("analysis_errors")))
    return record


def _etag(value: Any) -> str | None:
    """An ETag without the quotes ListObjectsV2 and HeadObject put around it (S3 events carry none),
    so a document's and a listing's ETag compare equal."""
    return (value.strip('"') or None) if isinstance(value, str) else None


# -- the optional analyses (records from before them have none of these keys) -------------------------

def _string(value: Any, where: str, *, empty: bool = False) -> str:
    if not isinstance(value, str) or (not value and not empty):
        raise MalformedRecord(f"{where} must be a {'' if empty else 'non-empty '}string, got {value!r}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise MalformedRecord(f"{where} must be a list, got {type(value).__name__}")
    return value


def _box(value: Any, where: str) -> dict[str, float]:
    """Rekognition's BoundingBox (ratios of the image's width and height) in the index's snake_case."""
    if not isinstance(value, dict):
        raise MalformedRecord(f"{where}: Geometry.BoundingBox must be an object")
    box = {}
    for name in ("Left", "Top", "Width", "Height"):
        number = value.get(name, 0.0)
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number):
            raise MalformedRecord(f"{where}: BoundingBox.{name} must be a number, got {number!r}")
        box[name.lower()] = float(number)
    return box


def text_from_rekognition(text: Any) -> dict[str, Any] | None:
    """DetectText's answer (`TextDetections`, `TextModelVersion`) -> {"text", "words", "model_version"}.

    `text` is the LINE detections' DetectedText joined by newlines in Rekognition's order ("" when the
    image was analysed and holds no text); `words` the WORD detections with their boxes. None when the
    record has no text analysis (switched off, its branch failed, or a record from before it)."""
    if text is None:
        return None
    if not isinstance(text, dict):
        raise MalformedRecord("text must be DetectText's answer: an object with TextDetections")
    lines, words = [], []
    for position, detection in enumerate(_list(text.get("TextDetections"), "text.TextDetections")):
        where = f"text detection {position}"
        if not isinstance(detection, dict):
            raise MalformedRecord(f"{where} is not an object")
        detected = _string(detection.get("DetectedText"), f"{where}: DetectedText", empty=True)
        kind = detection.get("Type")
        if kind == "LINE":
            lines.append(detected)
        elif kind == "WORD":
            geometry = detection.get("Geometry")
            if not isinstance(geometry, dict):
                raise MalformedRecord(f"{where}: a WORD needs its Geometry")
            words.append({"text": detected, "confidence": _confidence(detection.get("Confidence"), where),
                          "box": _box(geometry.get("BoundingBox"), where)})
        else:
            raise MalformedRecord(f"{where}: Type must be LINE or WORD, got {kind!r}")
    version = text.get("TextModelVersion")
    if version is not None:
        _string(version, "text.TextModelVersion")
    return {"text": "\n".join(lines), "words": words, "model_version": version}


def moderation_from_rekognition(moderation: Any) -> dict[str, Any] | None:
    """DetectModerationLabels' answer -> {"labels": [{name, parent_name, taxonomy_level, confidence}],
    "max_confidence" (0.0 without labels), "model_version"}; None when not analysed."""
    if moderation is None:
        return None
    if not isinstance(moderation, dict):
        raise MalformedRecord("moderation must be DetectModerationLabels' answer: an object with ModerationLabels")
    labels: list[dict[str, Any]] = []
    highest = 0.0
    for position, label in enumerate(_list(moderation.get("ModerationLabels"), "moderation.ModerationLabels")):
        where = f"moderation label {position}"
        if not isinstance(label, dict):
            raise MalformedRecord(f"{where} is not an object")
        level = label.get("TaxonomyLevel")
        if level is not None and (isinstance(level, bool) or not isinstance(level, int) or level < 1):
            raise MalformedRecord(f"{where}: TaxonomyLevel must be a positive integer, got {level!r}")
        confidence = _confidence(label.get("Confidence"), where)
        labels.append({"name": _string(label.get("Name"), f"{where}: Name"),
                       "parent_name": _string(label.get("ParentName", ""), f"{where}: ParentName", empty=True),
                       "taxonomy_level": level, "confidence": confidence})
        highest = max(highest, confidence)
    version = moderation.get("ModerationModelVersion")
    if version is not None:
        _string(version, "moderation.ModerationModelVersion")
    return {"labels": labels, "max_confidence": highest, "model_version": version}


def _analysis_errors(errors: Any) -> list[dict[str, str]]:
    """[{"analysis": "text"|"moderation", "error", "cause"}]: optional analyses that failed and were caught
    in their branch (the labels were still detected)."""
    if errors is None:
        return []
    result = []
    for position, error in enumerate(_list(errors, "analysis_errors")):
        if not isinstance(error, dict) or error.get("analysis") not in OPTIONAL_ANALYSES:
            raise MalformedRecord(f"analysis error {position} must name one of {', '.join(OPTIONAL_ANALYSES)}")
        result.append({"analysis": error["analysis"],
                       "error": _string(error.get("error"), f"analysis error {position}: error"),
                       "cause": _string(error.get("cause", ""), f"analysis error {position}: cause", empty=True)})
    return result


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
        **analysis_fields(record),
    }


def analysis_fields(record: dict[str, Any]) -> dict[str, Any]:
    """The document's fields of the optional analyses (null when an analysis did not run)."""
    text, moderation = record.get("text"), record.get("moderation")
    return {
        "text": None if text is None else text["text"],
        "text_words": [] if text is None else text["words"],
        "moderation": None if moderation is None else {"labels": moderation["labels"],
                                                       "max_confidence": moderation["max_confidence"]},
        "analysis_errors": list(record.get("analysis_errors") or []),
    }


def is_flagged(document: dict[str, Any], threshold: float = MODERATION_THRESHOLD) -> bool:
    """A moderation label at or above the threshold: what `safe=true` leaves out and `flagged` counts."""
    moderation = document.get("moderation")
    return isinstance(moderation, dict) and moderation.get("max_confidence", 0.0) >= threshold


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


STATE_FIELDS = ("sequencer", "etag", "deleted", "event_time")
"""What `decide` needs of a stored document or tombstone (the OpenSearch adapter reads only these)."""

_RETAG_KEY = sequencer_key(RETAG_SEQUENCER)


def is_retag(action: dict[str, Any]) -> bool:
    """An upsert with the re-tag sequencer: labels the backfill or `reprocess` made for an object
    listed in the bucket, whose place among the object's S3 events is unknown."""
    return action.get("action") == "upsert" and sequencer_key(action["sequencer"]) == _RETAG_KEY


def stored_state(document: dict[str, Any] | None) -> dict[str, Any] | None:
    """The STATE_FIELDS of a stored document or tombstone (None when nothing is stored)."""
    if document is None:
        return None
    return {"sequencer": document.get("sequencer"), "etag": document.get("etag"),
            "deleted": bool(document.get("deleted")), "event_time": document.get("event_time")}


def decide(action: dict[str, Any], stored: dict[str, Any] | None) -> dict[str, Any] | None:
    """Whether `action` may replace the stored state (`stored_state`), and how: None when it is
    stale; otherwise the fields that override the action's own document ({} for an S3 event).

    An S3 event wins when its sequencer is at least the stored one (`supersedes`). A re-tag has no
    sequencer to compare, so it is decided by what is stored:

    * nothing: it writes the document (an adopted bucket), with the re-tag sequencer, so any
      S3 event of the object replaces it later;
    * a live document of the same ETag (the same bytes): its labels replace the stored ones and it
      takes over the stored sequencer and event time, so the document keeps its place among the
      object's events (a later upload or delete still wins) and in time order (it was uploaded then);
    * a tombstone, or another ETag (the object was deleted or replaced since it was listed): stale.
      A re-tag never resurrects a deleted image nor overwrites a newer upload's labels; the newer
      upload's own event brings its labels.
    """
    if stored is None:
        return {}
    if is_retag(action):
        mine = _etag((action.get("document") or {}).get("etag"))
        if stored.get("deleted") or mine is None or mine != _etag(stored.get("etag")):
            return None
        return {"sequencer": stored["sequencer"], "event_time": stored.get("event_time")}
    return {} if supersedes(action["sequencer"], stored.get("sequencer")) else None


def state_after(action: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """The stored state once `action` (with the `overrides` `decide` gave) is written."""
    document = action.get("document") or {}
    return {"sequencer": overrides.get("sequencer", action["sequencer"]),
            "etag": None if action["action"] == "delete" else document.get("etag"),
            "deleted": action["action"] == "delete",
            "event_time": overrides.get("event_time", document.get("event_time"))}


def resolve_batch(actions: list[dict[str, Any]], stored: dict[str, dict[str, Any] | None]
                  ) -> tuple[list[str], dict[str, tuple[int, dict[str, Any]]]]:
    """Applies a batch on paper, one action after the other, over the stored states (id ->
    `stored_state`), so a batch ends where applying its actions one by one would.

    Returns (per position "applied" or "stale", id -> (position of the action whose document stays,
    the overrides to write it with)). An action overwritten later in the same batch is "applied" too:
    it was, in the order the stream gave.
    """
    state = dict(stored)
    statuses: list[str] = []
    final: dict[str, tuple[int, dict[str, Any]]] = {}
    for position, action in enumerate(actions):
        overrides = decide(action, state.get(action["id"]))
        if overrides is None:
            statuses.append("stale")
            continue
        statuses.append("applied")
        final[action["id"]] = (position, overrides)
        state[action["id"]] = state_after(action, overrides)
    return statuses, final
