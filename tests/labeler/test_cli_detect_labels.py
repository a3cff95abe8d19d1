"""`autotagger detect-labels` on a real photo, as a user runs it."""

import json

import pytest
from labeler_photos import SAMPLE_PHOTOS

from autotagger.cli import main


@pytest.fixture(autouse=True)
def built_models(model_manifest, monkeypatch):
    from autotagger.labeler import clear_cache

    monkeypatch.setenv("AUTOTAGGER_MODEL_DIR", model_manifest["directory"])
    clear_cache()
    yield
    clear_cache()


def test_given_cat_photo_when_detecting_labels_then_listing_shows_cat_parents_and_box(capsys):
    assert main(["detect-labels", str(SAMPLE_PHOTOS["chelsea"])]) == 0
    out = capsys.readouterr().out
    cat_line = next(line for line in out.splitlines() if line.strip().startswith("Cat "))
    assert "parents: Mammal, Animal" in cat_line
    assert "box" in out and "%" in cat_line


def test_given_json_flag_when_detecting_labels_then_raw_detect_labels_response(capsys):
    assert main(["detect-labels", str(SAMPLE_PHOTOS["coffee"]), "--json", "--max-labels", "3"]) == 0
    response = json.loads(capsys.readouterr().out)
    assert set(response) == {"Labels", "LabelModelVersion"} and len(response["Labels"]) == 3


def test_given_rules_file_when_detecting_labels_then_rules_apply(tmp_path, capsys):
    rules = tmp_path / "rules.toml"
    rules.write_text('exclude = ["Pet"]\n[rename]\nCat = "House Cat"\n')
    assert main(["detect-labels", str(SAMPLE_PHOTOS["chelsea"]), "--json", "--rules", str(rules)]) == 0
    names = [label["Name"] for label in json.loads(capsys.readouterr().out)["Labels"]]
    assert "House Cat" in names and "Cat" not in names and "Pet" not in names


def test_given_text_file_when_detecting_labels_then_invalid_image_format_error(tmp_path, capsys):
    text = tmp_path / "notes.jpg"
    text.write_text("not a picture")
    assert main(["detect-labels", str(text)]) == 2
    assert "Rekognition.InvalidImageFormatException" in capsys.readouterr().err
