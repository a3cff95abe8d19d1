"""The labeler's evaluation set (tests/labeler/evaluation_photos.json) and how bench_accuracy counts.

The figures themselves are `make bench`'s (bench/bench_accuracy.py): they are measurements with
targets not all met yet, so no test asserts them; these tests keep the set honest and the
counting right.
"""

import json

import pytest
from labeler_photos import SAMPLE_PHOTOS

from autotagger.labeler.vocabulary import default_vocabulary
from bench.bench_accuracy import EXPECTATIONS, load_photos, photo_path, score

PHOTOS = load_photos()
EVALUATION = [p for p in PHOTOS if p["set"] == "evaluation"]
# kept for independent checks elsewhere: never part of this set
RESERVED_PACKAGES = {"mate-backgrounds", "plasma-workspace-wallpapers", "darknet"}


def test_given_evaluation_set_when_read_then_forty_or_more_photos_each_with_licence_and_expectations():
    assert len(EVALUATION) >= 40
    assert len({p["name"] for p in PHOTOS}) == len(PHOTOS)
    for photo in PHOTOS:
        assert photo["licence"].strip(), photo["name"]
        assert photo["expect"], photo["name"]
        assert not set(photo["expect"]) & set(photo["allow"]), photo["name"]
        assert ("debian" in photo) != ("python" in photo), photo["name"]


def test_given_evaluation_set_when_compared_with_tuning_photos_then_disjoint():
    tuning_files = {path.resolve() for path in SAMPLE_PHOTOS.values()}
    assert {p["name"] for p in PHOTOS if p["set"] == "tuning"} == set(SAMPLE_PHOTOS)
    assert not [p["name"] for p in EVALUATION if photo_path(p).resolve() in tuning_files]
    assert not [p["name"] for p in EVALUATION if p.get("debian") in RESERVED_PACKAGES]


@pytest.mark.parametrize("photo", PHOTOS, ids=lambda p: p["name"])
def test_given_photo_when_located_then_its_package_provides_a_readable_image(photo):
    from PIL import Image

    path = photo_path(photo)  # raises with the apt-get line when the Debian package is missing
    with Image.open(path) as image:
        assert min(image.size) >= 128


def _answer(*labels: tuple[str, list[str]]) -> dict:
    return {"Labels": [{"Name": name, "Confidence": 80.0, "Parents": [{"Name": p} for p in parents]}
                       for name, parents in labels]}


def test_given_answers_when_scored_then_counts_per_family_and_wrong_top_level_labels():
    photos = [{"name": "bug", "set": "evaluation", "expect": ["Insect", "Animal", "Leaf"], "allow": ["Plant"]},
              {"name": "blank", "set": "evaluation", "expect": ["Sky"], "allow": []}]
    answers = {"bug": _answer(("Insect", ["Animal"]), ("Animal", []), ("Sea Life", ["Animal"]), ("Plant", []),
                              ("Clock", [])),
               "blank": _answer()}
    figures = score(photos, answers, default_vocabulary())["evaluation"]
    animals, plants, scenes = (figures["families"][f] for f in ("animals", "plants", "scenes"))
    assert (animals["tp"], animals["fp"], animals["fn"]) == (2, 1, 0)  # Sea Life is a false positive
    assert (plants["tp"], plants["fp"], plants["fn"]) == (0, 0, 1)  # Plant allowed, Leaf missed
    assert (scenes["tp"], scenes["fn"]) == (0, 1)
    assert figures["precision"] == pytest.approx(2 / 4) and figures["recall"] == pytest.approx(2 / 4)
    assert figures["wrong_top_level_labels"] == ["bug: Clock 80"]  # Sea Life has a parent: not top-level
    assert figures["photos_without_labels"] == ["blank"]
    # neither ImageNet nor COCO has a class for a leaf or the sky, nor one under them: out of reach
    assert figures["out_of_reach"] == ["bug: Leaf", "blank: Sky"]
    assert figures["recall_ceiling"] == pytest.approx(2 / 4)


def test_given_expectations_file_when_read_then_it_is_the_one_bench_accuracy_uses():
    assert json.loads(EXPECTATIONS.read_text(encoding="utf-8"))["photos"] == PHOTOS
