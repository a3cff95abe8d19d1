"""Markers given by folder: every test below a folder that runs the real models is marked `models`."""

from __future__ import annotations

from pathlib import Path

import pytest


def mark_models_below(folder: Path, items: list[pytest.Item]) -> None:
    for item in items:
        if folder in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.models)
