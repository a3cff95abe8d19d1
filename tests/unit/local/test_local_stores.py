"""Where the local stores keep the index: the one place `Settings.index_target` names."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from autotagger.config import Settings
from autotagger.local.stores import LocalStores


def test_given_default_settings_when_the_index_is_opened_then_it_is_the_file_settings_name(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    stores = LocalStores(settings)
    try:
        stores.index  # noqa: B018 - opening the SQLite index creates its file
        created = sorted(p.name for p in (tmp_path / "data").iterdir())
    finally:
        stores.close()
    assert Path(settings.index_target).name in created


def test_given_an_index_path_when_the_index_is_opened_then_the_data_dir_holds_no_index(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", index=str(tmp_path / "elsewhere.sqlite3"))
    stores = LocalStores(settings)
    try:
        stores.index  # noqa: B018 - opening is the behaviour under test
    finally:
        stores.close()
    assert (tmp_path / "elsewhere.sqlite3").exists() and list((tmp_path / "data").iterdir()) == []


def test_given_flagged_and_failed_analyses_when_summarised_then_the_counts_and_the_threshold_are_answered(tmp_path):
    from autotagger.contracts import MODERATION_THRESHOLD
    from autotagger.domain.documents import action_from_record, parse_record
    from tests.fakes.index import FakeImageIndex

    def upsert(key, moderation=None, errors=None):
        body = {"action": "upsert", "bucket": "b", "key": key, "size": 1, "sequencer": "01",
                "event_time": "2026-11-25T10:00:00Z", "labels": [], "moderation": moderation,
                "analysis_errors": errors}
        return action_from_record(parse_record(body), datetime(2026, 11, 25, tzinfo=UTC))

    def labels(confidence):
        return {"ModerationLabels": [{"Name": "Explicit", "ParentName": "", "TaxonomyLevel": 1,
                                      "Confidence": confidence}]}

    index = FakeImageIndex()
    index.apply([upsert("at.jpg", labels(MODERATION_THRESHOLD)), upsert("below.jpg", labels(MODERATION_THRESHOLD - 0.1)),
                 upsert("none.jpg", {"ModerationLabels": []}), upsert("old.jpg"),
                 upsert("failed.jpg", errors=[{"analysis": "moderation", "error": "States.Timeout", "cause": "slow"}])])
    stores = LocalStores(Settings(data_dir=tmp_path / "data"), index=index)
    try:
        summary = stores.summary()
    finally:
        stores.close()
    assert (summary["flagged"], summary["analysis_errors"], summary["images_indexed"]) == (1, 1, 5)
    assert summary["moderation_threshold"] == MODERATION_THRESHOLD
