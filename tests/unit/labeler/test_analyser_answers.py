"""The local analysers' answers built from their engines' raw output, as pure functions: Tesseract
words -> DetectText, NudeNet detections -> DetectModerationLabels (no engine runs here)."""

from __future__ import annotations

import pytest

from autotagger.contracts import DETECT_TEXT_MAX_WORDS
from autotagger.labeler.moderation import (
    NUDENET_IGNORED,
    NUDENET_TO_REKOGNITION,
    TAXONOMY,
    lineage,
    moderation_labels,
)
from autotagger.labeler.text import MIN_WORD_CONFIDENCE, text_detections, words_from_tesseract
from tests.fakes import FakeModerationDetector, FakeTextDetector
from tests.fakes.labeler import PNG_MAGIC
from tests.support.rekognition_shapes import assert_rekognition_answer


def word(text, confidence, left, top, line, width=40, height=20):
    return {"text": text, "confidence": confidence, "box": (left, top, width, height), "line": line}


# -- DetectText ---------------------------------------------------------------------------------

def test_GIVEN_two_lines_of_words_WHEN_answered_THEN_LINEs_come_first_in_reading_order_and_WORDs_name_their_LINE():
    words = [word("PARKING", 90.0, 150, 300, (1, 1, 2)), word("HARBOUR", 96.0, 100, 100, (1, 1, 1)),
             word("NO", 94.0, 100, 300, (1, 1, 2)), word("MASTER", 92.0, 200, 100, (1, 1, 1))]

    answer = text_detections(words, 400, 400, "tesseract-5.3.0-eng")

    assert [(d["DetectedText"], d["Type"], d["Id"], d.get("ParentId")) for d in answer["TextDetections"]] == [
        ("HARBOUR MASTER", "LINE", 0, None), ("NO PARKING", "LINE", 1, None),
        ("HARBOUR", "WORD", 2, 0), ("MASTER", "WORD", 3, 0), ("NO", "WORD", 4, 1), ("PARKING", "WORD", 5, 1)]
    assert answer["TextDetections"][0]["Confidence"] == 94.0  # the mean of its words'
    assert_rekognition_answer("detect_text", answer)


def test_GIVEN_a_word_in_pixels_WHEN_answered_THEN_its_box_and_polygon_are_ratios_of_the_image():
    answer = text_detections([word("HARBOUR", 95.0, 100, 50, (1, 1, 1), width=200, height=40)], 400, 200, "v")

    geometry = answer["TextDetections"][1]["Geometry"]
    assert geometry["BoundingBox"] == {"Width": 0.5, "Height": 0.2, "Left": 0.25, "Top": 0.25}
    assert geometry["Polygon"] == [{"X": 0.25, "Y": 0.25}, {"X": 0.75, "Y": 0.25}, {"X": 0.75, "Y": 0.45},
                                   {"X": 0.25, "Y": 0.45}]


def test_GIVEN_more_words_than_Rekognition_returns_WHEN_answered_THEN_the_most_confident_are_kept():
    words = [word(f"w{i}", 70.0 + i * 0.1, 10 * (i % 10), 20 * (i // 10), (1, 1, i // 10)) for i in range(150)]

    answer = text_detections(words, 1000, 1000, "v")

    kept = [d for d in answer["TextDetections"] if d["Type"] == "WORD"]
    assert len(kept) == DETECT_TEXT_MAX_WORDS
    assert min(d["Confidence"] for d in kept) == pytest.approx(70.0 + 50 * 0.1)
    line_ids = {d["Id"] for d in answer["TextDetections"] if d["Type"] == "LINE"}
    assert {d["ParentId"] for d in kept} == line_ids


def test_GIVEN_tesseract_rows_WHEN_read_THEN_only_confident_words_with_a_letter_or_digit_are_kept():
    rows = {"level": [4, 5, 5, 5, 5], "text": ["", "HARBOUR", "\\\\", "aS", "12"],
            "conf": [-1, 95.5, 92.0, MIN_WORD_CONFIDENCE - 1, MIN_WORD_CONFIDENCE],
            "left": [0, 1, 2, 3, 4], "top": [0] * 5, "width": [9] * 5, "height": [9] * 5,
            "block_num": [1] * 5, "par_num": [1] * 5, "line_num": [1] * 5}

    assert [w["text"] for w in words_from_tesseract(rows)] == ["HARBOUR", "12"]


def test_GIVEN_no_words_WHEN_answered_THEN_no_detections_and_the_model_version():
    assert text_detections([], 100, 100, "tesseract-5.3.0-eng") == {"TextDetections": [],
                                                                    "TextModelVersion": "tesseract-5.3.0-eng"}


# -- DetectModerationLabels -----------------------------------------------------------------------

def test_GIVEN_the_taxonomy_WHEN_walked_THEN_every_label_reaches_a_top_level_one_level_by_level():
    for name in TAXONOMY:
        chain = lineage(name)
        assert [level for _, _, level in chain] == list(range(chain[0][2], 0, -1))
        assert chain[-1][1] == ""


@pytest.mark.parametrize("nudenet_class, expected", [
    ("FEMALE_GENITALIA_EXPOSED", [("Exposed Female Genitalia", "Explicit Nudity", 3),
                                  ("Explicit Nudity", "Explicit", 2), ("Explicit", "", 1)]),
    ("MALE_GENITALIA_EXPOSED", [("Exposed Male Genitalia", "Explicit Nudity", 3),
                                ("Explicit Nudity", "Explicit", 2), ("Explicit", "", 1)]),
    ("BUTTOCKS_EXPOSED", [("Exposed Buttocks or Anus", "Explicit Nudity", 3),
                          ("Explicit Nudity", "Explicit", 2), ("Explicit", "", 1)]),
    ("ANUS_EXPOSED", [("Exposed Buttocks or Anus", "Explicit Nudity", 3),
                      ("Explicit Nudity", "Explicit", 2), ("Explicit", "", 1)]),
    ("FEMALE_BREAST_EXPOSED", [("Exposed Female Nipple", "Explicit Nudity", 3),
                               ("Explicit Nudity", "Explicit", 2), ("Explicit", "", 1)]),
    ("MALE_BREAST_EXPOSED", [("Exposed Male Nipple", "Non-Explicit Nudity", 3),
                             ("Non-Explicit Nudity", "Non-Explicit Nudity of Intimate parts and Kissing", 2),
                             ("Non-Explicit Nudity of Intimate parts and Kissing", "", 1)]),
])
def test_GIVEN_a_nudenet_class_WHEN_mapped_THEN_Rekognitions_label_comes_with_its_parents(nudenet_class, expected):
    labels = moderation_labels([{"class": nudenet_class, "score": 0.8, "box": [0, 0, 1, 1]}], 50.0)

    assert sorted((label["Name"], label["ParentName"], label["TaxonomyLevel"]) for label in labels) == sorted(expected)
    assert {label["Confidence"] for label in labels} == {80.0}
    assert [label["TaxonomyLevel"] for label in labels] == [1, 2, 3]  # equal confidence: parents first
    assert_rekognition_answer("detect_moderation_labels", {"ModerationLabels": labels,
                                                           "ModerationModelVersion": "nudenet-3.4.2-320n"})


@pytest.mark.parametrize("nudenet_class", sorted(NUDENET_IGNORED))
def test_GIVEN_a_class_with_no_moderation_meaning_WHEN_mapped_THEN_no_label(nudenet_class):
    assert moderation_labels([{"class": nudenet_class, "score": 0.99, "box": [0, 0, 1, 1]}], 0.0) == []


def test_GIVEN_nudenets_classes_WHEN_listed_THEN_each_is_mapped_or_deliberately_ignored():
    import nudenet.nudenet as engine

    classes = set(vars(engine)["__labels"])

    assert set(NUDENET_TO_REKOGNITION) | NUDENET_IGNORED == classes
    assert not set(NUDENET_TO_REKOGNITION) & NUDENET_IGNORED
    assert set(NUDENET_TO_REKOGNITION.values()) <= set(TAXONOMY)


def test_GIVEN_detections_under_one_parent_WHEN_mapped_THEN_the_parent_is_as_confident_as_its_surest_child():
    detections = [{"class": "BUTTOCKS_EXPOSED", "score": 0.62}, {"class": "FEMALE_BREAST_EXPOSED", "score": 0.91},
                  {"class": "BUTTOCKS_EXPOSED", "score": 0.70}, {"class": "MALE_BREAST_EXPOSED", "score": 0.4}]

    labels = moderation_labels(detections, 50.0)

    assert [(label["Name"], label["Confidence"]) for label in labels] == [
        ("Explicit", 91.0), ("Explicit Nudity", 91.0), ("Exposed Female Nipple", 91.0),
        ("Exposed Buttocks or Anus", 70.0)]


def test_GIVEN_a_MinConfidence_WHEN_mapped_THEN_labels_under_it_are_left_out_and_a_parent_above_it_stays():
    detections = [{"class": "MALE_BREAST_EXPOSED", "score": 0.55}]

    assert moderation_labels(detections, 60.0) == []
    assert [label["Name"] for label in moderation_labels(detections, 55.0)] == [
        "Non-Explicit Nudity of Intimate parts and Kissing", "Non-Explicit Nudity", "Exposed Male Nipple"]


# -- the fakes answer in the same shapes ---------------------------------------------------------

def test_GIVEN_the_fakes_WHEN_they_answer_THEN_their_answers_are_valid_Rekognition_responses():
    assert_rekognition_answer("detect_text", FakeTextDetector(lines=("HARBOUR MASTER", "NO PARKING")).detect_text(
        PNG_MAGIC))
    assert_rekognition_answer("detect_moderation_labels", FakeModerationDetector(labels=(
        {"Name": "Explicit", "ParentName": "", "TaxonomyLevel": 1, "Confidence": 70.0},)).detect_moderation_labels(
        PNG_MAGIC))
