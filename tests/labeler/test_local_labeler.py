"""The local labeler as its callers use it: the port, parameters, rules, threads, errors."""

import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image

from autotagger.errors import InvalidImageFormatException, InvalidParameterException
from autotagger.labeler.local import LocalLabeler
from autotagger.labeler.rules import Rules
from autotagger.ports import Labeler


def test_given_local_labeler_when_checked_against_the_port_then_it_is_a_labeler(local_labeler):
    assert isinstance(local_labeler, Labeler)


def test_given_max_labels_when_labelled_then_at_most_that_many(local_labeler, photo_bytes):
    assert len(local_labeler.detect_labels(photo_bytes["coffee"], max_labels=2)["Labels"]) == 2


def test_given_lower_min_confidence_when_labelled_then_more_labels(local_labeler, photo_bytes):
    strict = local_labeler.detect_labels(photo_bytes["coffee"], min_confidence=90)["Labels"]
    loose = local_labeler.detect_labels(photo_bytes["coffee"], min_confidence=30)["Labels"]
    assert len(loose) > len(strict) and all(item["Confidence"] >= 90 for item in strict)


def test_given_min_confidence_over_100_when_labelled_then_invalid_parameter(local_labeler, photo_bytes):
    with pytest.raises(InvalidParameterException):
        local_labeler.detect_labels(photo_bytes["coffee"], min_confidence=101)


def test_given_gif_when_labelled_then_invalid_image_format(local_labeler):
    buffer = io.BytesIO()
    Image.new("RGB", (100, 100)).save(buffer, "GIF")
    with pytest.raises(InvalidImageFormatException):
        local_labeler.detect_labels(buffer.getvalue())


def test_given_rules_when_labelled_then_renamed_and_excluded(model_manifest, photo_bytes):
    labeler = LocalLabeler(model_manifest["directory"],
                           rules=Rules(rename={"Cat": "Kitty"}, exclude=frozenset({"Mammal"})))
    names = [item["Name"] for item in labeler.detect_labels(photo_bytes["chelsea"])["Labels"]]
    assert "Kitty" in names and "Cat" not in names and "Mammal" not in names


def test_given_exif_rotated_photo_when_labelled_then_boxes_follow_the_upright_picture(local_labeler, photo_bytes):
    upright = Image.open(io.BytesIO(photo_bytes["astronaut"])).convert("RGB")
    sideways = upright.rotate(90, expand=True)  # stored sideways, EXIF says rotate back
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    sideways.save(buffer, "JPEG", quality=95, exif=exif.tobytes())
    person = next(item for item in local_labeler.detect_labels(buffer.getvalue())["Labels"] if item["Name"] == "Person")
    box = person["Instances"][0]["BoundingBox"]
    assert box["Height"] > 0.8  # the astronaut stands upright, filling the picture's height


def test_given_many_threads_when_labelling_then_each_gets_the_single_thread_answer(local_labeler, photo_bytes):
    photos = ["chelsea", "coffee", "astronaut", "rocket"] * 2
    expected = {name: local_labeler.detect_labels(photo_bytes[name]) for name in set(photos)}
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda name: local_labeler.detect_labels(photo_bytes[name]), photos))
    for name, result in zip(photos, results, strict=True):
        assert [i["Name"] for i in result["Labels"]] == [i["Name"] for i in expected[name]["Labels"]]
        for got, want in zip(result["Labels"], expected[name]["Labels"], strict=True):
            assert got["Confidence"] == pytest.approx(want["Confidence"], abs=1e-3)


def test_given_several_images_when_labelled_together_then_same_as_one_by_one(local_labeler, photo_bytes):
    names = ["chelsea", "rocket", "flower"]
    together = local_labeler.detect_labels_many([photo_bytes[n] for n in names])
    for name, response in zip(names, together, strict=True):
        alone = local_labeler.detect_labels(photo_bytes[name])
        assert [i["Name"] for i in response["Labels"]] == [i["Name"] for i in alone["Labels"]]


def test_given_factory_when_called_twice_then_same_shared_instance(model_manifest, monkeypatch):
    from autotagger.labeler import clear_cache, get_labeler

    monkeypatch.setenv("AUTOTAGGER_MODEL_DIR", model_manifest["directory"])
    clear_cache()
    try:
        assert get_labeler("local") is get_labeler("local")
    finally:
        clear_cache()
