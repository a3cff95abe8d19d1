"""A SQLite index created by the schema-3 or schema-4 adapter is migrated when the current one opens it."""

from __future__ import annotations

import importlib.util
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from autotagger.config import INDEX_FILE
from autotagger.domain.documents import action_from_record, parse_record
from autotagger.errors import UserError
from autotagger.index.sqlite import SCHEMA_VERSION, SQLiteIndex

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def legacy_adapter(version=3):
    """The schema-3 (or 4) SQLiteIndex, as released (tests/unit/index/legacy/sqlite_v<version>.py)."""
    name = f"sqlite_v{version}"
    spec = importlib.util.spec_from_file_location(name, Path(__file__).parent / "legacy" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SQLiteIndex


def record(key, sequencer, event_time, labels=(), action="upsert", **analyses):
    body = {"action": action, "bucket": "b", "key": key, "sequencer": sequencer, "event_time": event_time}
    if action == "upsert":
        body.update(size=1, etag="e", labels=[{"Name": n, "Confidence": c} for n, c in labels], **analyses)
    return action_from_record(parse_record(body), NOW)


ACTIONS = [record("a.jpg", "01", "2026-11-25T10:00:00Z", (("Dog", 90.0), ("Ball", 70.0))),
           record("b.jpg", "01", "2026-11-25T10:00:00Z", (("Dog", 60.0),)),
           record("c.jpg", "01", "2026-11-25T11:00:00Z", (("Cat", 99.0),)),
           record("d.jpg", "01", "2026-11-25T09:00:00Z", (("Dog", 80.0),)),
           record("d.jpg", "02", "2026-11-25T11:30:00Z", action="delete")]


@pytest.fixture
def old_database(tmp_path):
    path = tmp_path / INDEX_FILE  # where a data dir keeps its index, so `reindex --data-dir` finds it
    old = legacy_adapter()(path)
    assert {r["status"] for r in old.apply(ACTIONS)} == {"applied"}
    before = {"documents": {image["key"]: image for image in old.search(limit=100)["images"]},
              "tags": old.tag_counts(), "confident": old.tag_counts(min_confidence=80),
              "images": old.image_counts("hour"), "count": old.count()}
    old.close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 3
    return path, before


def test_given_a_schema_3_database_when_opened_then_it_is_migrated_and_answers_as_before(old_database):
    path, before = old_database
    index = SQLiteIndex(path)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert {image["key"]: image for image in index.search(limit=100)["images"]} == before["documents"]
    assert (index.tag_counts(), index.tag_counts(min_confidence=80), index.image_counts("hour"), index.count()) == (
        before["tags"], before["confident"], before["images"], before["count"])
    # The new semantics on the old rows: any case, ties in time by id, cursors.
    dogs = index.search(tags=["DOG"], limit=1)
    assert dogs["total"] == 2 and dogs["next_cursor"]
    rest = index.search(tags=["dog"], limit=1, cursor=dogs["next_cursor"])
    pair = sorted([before["documents"]["a.jpg"], before["documents"]["b.jpg"]], key=lambda d: d["id"], reverse=True)
    assert dogs["images"] + rest["images"] == pair and rest["next_cursor"] is None
    assert index.search(tags=["dog", "BALL"])["images"] == [before["documents"]["a.jpg"]]
    index.apply([record("e.jpg", "03", "2026-11-25T12:00:00Z", (("dog", 95.0),))])
    assert [image["key"] for image in index.search(tags=["Dog"])["images"]] == ["e.jpg"] + [d["key"] for d in pair]
    # Old rows carry neither moderation nor analysis errors: the new counters see none of them.
    assert index.analysis_counts() == {"flagged": 0, "analysis_errors": 0}
    index.close()
    SQLiteIndex(path).close()  # opening a migrated file again changes nothing
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_given_a_database_of_an_unknown_schema_when_opened_then_the_user_is_told_to_reindex(tmp_path):
    path = tmp_path / "index.db"
    sqlite3.connect(path).execute("PRAGMA user_version = 2").connection.close()
    with pytest.raises(UserError, match="schema 2"):
        SQLiteIndex(path)


def test_given_an_old_database_when_reindex_runs_without_an_endpoint_then_it_is_migrated(old_database, capsys):
    from autotagger.cli import main

    path, _ = old_database
    assert main(["reindex", "--data-dir", str(path.parent)]) == 0
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert f"schema {SCHEMA_VERSION}" in capsys.readouterr().out
    assert main(["reindex", "--data-dir", str(path.parent / "nowhere")]) == 2


def _line(text):
    return {"DetectedText": text, "Type": "LINE", "Id": 0, "Confidence": 99.0,
            "Geometry": {"BoundingBox": {"Width": 0.5, "Height": 0.1, "Left": 0.1, "Top": 0.1}}}


def test_given_a_schema_4_database_when_opened_then_its_documents_text_and_moderation_become_searchable(tmp_path):
    path = tmp_path / INDEX_FILE
    old = legacy_adapter(4)(path)
    # A schema-4 adapter stores whatever document it is given: these already carry the analyses.
    flagged = {"ModerationLabels": [{"Name": "Violence", "ParentName": "", "TaxonomyLevel": 1, "Confidence": 90.0}]}
    errors = [{"analysis": "text", "error": "Rekognition.ThrottlingException", "cause": "Rate exceeded"}]
    actions = [*ACTIONS,
               record("sign.jpg", "01", "2026-11-25T12:00:00Z", (("Dog", 90.0),),
                      text={"TextDetections": [_line("HARBOUR")]}, moderation=flagged),
               record("plain.jpg", "01", "2026-11-25T12:30:00Z", (("Dog", 90.0),), analysis_errors=errors)]
    assert {r["status"] for r in old.apply(actions)} == {"applied"}
    before = {image["key"]: image for image in old.search(limit=100)["images"]}
    old.close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 4
    index = SQLiteIndex(path)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert {image["key"]: image for image in index.search(limit=100)["images"]} == before
    assert [image["key"] for image in index.search(text="harbour")["images"]] == ["sign.jpg"]
    safe_dogs = [image["key"] for image in index.search(tags=["dog"], safe=True)["images"]]
    assert safe_dogs[0] == "plain.jpg" and sorted(safe_dogs[1:]) == ["a.jpg", "b.jpg"]  # a and b: same time
    assert index.analysis_counts() == {"flagged": 1, "analysis_errors": 1}
    index.close()
