"""Where the local stores keep the index: the one place `Settings.index_target` names."""

from __future__ import annotations

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
