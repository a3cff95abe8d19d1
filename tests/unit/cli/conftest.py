"""Runs `autotagger` commands in-process, with the pipeline's labeler replaced by the instant one."""

from __future__ import annotations

import pytest

from tests.fakes import fake_analysers


@pytest.fixture
def run_cli(capsys):
    from autotagger.cli import main

    def run(*argv: str):
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def instant_pipelines(monkeypatch, instant_labeler):
    """`tag` and `dlq redrive` start their pipeline with the instant labeler instead of the models."""
    from autotagger.cli import pipeline_cmds
    from autotagger.local.runtime import Pipeline

    def open_instant(settings):
        return Pipeline(settings, labeler=instant_labeler,
                        consumer_options={"backoff_base_s": 0.01, "backoff_jitter": False}, **fake_analysers()).start()

    monkeypatch.setattr(pipeline_cmds, "open_pipeline", open_instant)
    return instant_labeler


@pytest.fixture
def photos(tmp_path, tiny_png, tiny_jpeg):
    folder = tmp_path / "photos"
    (folder / "pets").mkdir(parents=True)
    (folder / "cat.png").write_bytes(tiny_png)
    (folder / "pets" / "dog.JPG").write_bytes(tiny_jpeg)
    (folder / "readme.txt").write_text("not an image")
    return folder
