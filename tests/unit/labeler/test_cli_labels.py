"""`autotagger detect-labels` and `autotagger models` as a user meets them without models."""

import pytest

from autotagger.cli import main


@pytest.fixture(autouse=True)
def no_models(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOTAGGER_MODEL_DIR", str(tmp_path / "empty"))
    from autotagger.labeler import clear_cache

    clear_cache()
    yield
    clear_cache()


def test_given_missing_file_when_detecting_labels_then_one_line_error(capsys):
    assert main(["detect-labels", "/no/such/photo.jpg"]) == 2
    err = capsys.readouterr().err
    assert "photo.jpg" in err and "Traceback" not in err


def test_given_no_models_when_detecting_labels_then_error_says_run_models_build(tmp_path, capsys):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8\xff")
    assert main(["detect-labels", str(photo)]) == 2
    assert "autotagger models build" in capsys.readouterr().err


def test_given_min_confidence_out_of_range_when_detecting_labels_then_error(capsys):
    assert main(["detect-labels", "x.jpg", "--min-confidence", "150"]) == 2
    assert "between 0 and 100" in capsys.readouterr().err


def test_given_no_models_when_status_then_not_ready_and_exit_1(capsys):
    assert main(["models", "status"]) == 1
    assert "not ready" in capsys.readouterr().out
