"""The local DetectText (Tesseract) on the repository's real photos, with signs drawn on them.

What Tesseract reads: a clear sign (dark on light, a tenth of the photo tall), street signs in
real photos (opencv-doc's scenetext photos), a printed page. What it does not: it misses signs a
scene-text model would read (it read 10 of the 18 signs bench/bench_analysers.py paints, 2 of the 6
light-on-dark ones) and turns some texture into a stray short "word" (below).
"""

from __future__ import annotations

import json

import pytest

from autotagger.errors import ImageTooLargeException, InvalidImageFormatException
from tests.analysers.signs import EVALUATION_PHOTOS, draw_sign
from tests.support.rekognition_shapes import assert_rekognition_answer


def lines(answer):
    return [d["DetectedText"] for d in answer["TextDetections"] if d["Type"] == "LINE"]


def assert_consistent(answer):
    """Rekognition's shape, LINEs before WORDs, Ids 0.. in order, each WORD under a LINE whose text
    is its words, every box inside the image."""
    assert_rekognition_answer("detect_text", answer)
    detections = answer["TextDetections"]
    assert [d["Id"] for d in detections] == list(range(len(detections)))
    kinds = [d["Type"] for d in detections]
    assert kinds == sorted(kinds)  # "LINE" < "WORD"
    line_text = {d["Id"]: d["DetectedText"] for d in detections if d["Type"] == "LINE"}
    words = [d for d in detections if d["Type"] == "WORD"]
    assert all("ParentId" not in d for d in detections if d["Type"] == "LINE")
    assert {line_id: " ".join(w["DetectedText"] for w in words if w["ParentId"] == line_id)
            for line_id in line_text} == line_text
    for d in detections:
        box = d["Geometry"]["BoundingBox"]
        assert 0 <= box["Left"] <= box["Left"] + box["Width"] <= 1 and 0 <= box["Top"] <= box["Top"] + box["Height"] <= 1
        assert 0 <= d["Confidence"] <= 100


def where_drawn(found, drawn):
    """A detected box is where the letters were drawn: it starts and ends within 2 % of the
    photo's width of them and covers their vertical middle (Tesseract's box may take in the plate)."""
    middle = drawn["Top"] + drawn["Height"] / 2
    return (abs(found["Left"] - drawn["Left"]) < 0.02
            and abs(found["Left"] + found["Width"] - drawn["Left"] - drawn["Width"]) < 0.02
            and found["Top"] <= middle <= found["Top"] + found["Height"])


@pytest.mark.parametrize("photo", ["lake", "bridge-sky", "mountain-sunset", "aitzgorri"])
def test_GIVEN_a_photo_with_a_HARBOUR_sign_WHEN_its_text_is_detected_THEN_a_LINE_and_its_WORD_are_where_it_was_drawn(
        text_detector, photos, photo):
    data, drawn = draw_sign(photos[photo], "HARBOUR", (0.35, 0.45))

    answer = text_detector.detect_text(data)

    assert_consistent(answer)
    harbour = [d for d in answer["TextDetections"] if d["DetectedText"].strip(":|") == "HARBOUR"]
    assert [d["Type"] for d in harbour] == ["LINE", "WORD"]
    line, word = harbour
    assert word["ParentId"] == line["Id"]
    assert word["Confidence"] >= 85
    assert where_drawn(word["Geometry"]["BoundingBox"], drawn)
    assert answer["TextModelVersion"].startswith("tesseract-5.")


def test_GIVEN_a_two_line_sign_WHEN_detected_THEN_two_LINEs_in_reading_order_each_with_its_words(text_detector, photos):
    data, drawn = draw_sign(photos["bridge-sky"], "HARBOUR\nNO PARKING", (0.3, 0.3))

    answer = text_detector.detect_text(data)

    assert_consistent(answer)
    assert lines(answer) == ["HARBOUR", "NO PARKING"]
    words = {d["DetectedText"]: d for d in answer["TextDetections"] if d["Type"] == "WORD"}
    assert words["NO"]["ParentId"] == words["PARKING"]["ParentId"] != words["HARBOUR"]["ParentId"]
    assert words["NO"]["Geometry"]["BoundingBox"]["Left"] < words["PARKING"]["Geometry"]["BoundingBox"]["Left"]
    polygon = words["PARKING"]["Geometry"]["Polygon"]
    box = words["PARKING"]["Geometry"]["BoundingBox"]
    assert (polygon[0], polygon[2]) == ({"X": box["Left"], "Y": box["Top"]},
                                        {"X": box["Left"] + box["Width"], "Y": box["Top"] + box["Height"]})


def test_GIVEN_a_phone_photo_stored_sideways_with_its_EXIF_orientation_WHEN_detected_THEN_the_sign_reads_upright(
        text_detector, photos):
    upright, drawn = draw_sign(photos["aitzgorri"], "HARBOUR", (0.35, 0.45))
    sideways, _ = draw_sign(photos["aitzgorri"], "HARBOUR", (0.35, 0.45), exif_orientation=6)

    answer = text_detector.detect_text(sideways)

    word = next(d for d in answer["TextDetections"] if d["Type"] == "WORD" and d["DetectedText"] == "HARBOUR")
    assert where_drawn(word["Geometry"]["BoundingBox"], drawn)  # boxes on the upright photo, as Rekognition's
    assert "HARBOUR" in lines(text_detector.detect_text(upright))


def test_GIVEN_real_street_signs_and_a_printed_page_WHEN_detected_THEN_their_words_are_read(text_detector, photos):
    parking = text_detector.detect_text(photos["parking-sign"].read_bytes())
    page = text_detector.detect_text(photos["printed-page"].read_bytes())

    assert_consistent(parking)
    assert {"PARKING", "PROHIBITED", "AT ALL TIMES"} <= set(lines(parking))
    assert "Region-based segmentation" in lines(page)


PLAIN_PHOTOS = ["bridge-sky", "dragonfly", "picos-de-europa", "mountain-sunset", "starry-night", "citrus-fruits",
                "swallowtail", "mandrill", "apple", "orange", "hotel", "palace-birds", "squirrel", "aerial-city",
                "circuit-board", "sweets", "aloe", "pekinese", "lake", "lone-tree", "chelsea", "coffee", "horse",
                "china", "flower"]


@pytest.mark.parametrize("photo", PLAIN_PHOTOS)
def test_GIVEN_a_photo_with_no_text_WHEN_detected_THEN_no_LINE(text_detector, photos, photo):
    answer = text_detector.detect_text(photos[photo].read_bytes())

    assert answer["TextDetections"] == []


def test_GIVEN_photos_without_text_but_with_texture_WHEN_detected_THEN_at_most_a_few_short_stray_words(
        text_detector, photos):
    """Honest about Tesseract on photos: leaves, fur or a clock face can read as a stray "word"
    (measured: `4`, `Re,`, `#22`, `bb`; four on the rocket, whose hull has small lettering); the
    confidence and letter filters keep them few and short."""
    catalogue = json.loads(EVALUATION_PHOTOS.read_text(encoding="utf-8"))["photos"]
    without_text = [p["name"] for p in catalogue if "Text" not in p["expect"] + p.get("allow", [])]

    stray = {name: lines(text_detector.detect_text(photos[name].read_bytes())) for name in without_text}

    assert len(without_text) >= 40
    assert {name: found for name, found in stray.items() if len(found) > 4 or any(len(t) > 5 for t in found)} == {}


@pytest.mark.parametrize("data, error", [
    (b"GIF89a\x01\x00\x01\x00", InvalidImageFormatException),
    (b"plain text, not a picture", InvalidImageFormatException),
    (b"", InvalidImageFormatException),
], ids=["gif", "text", "empty"])
def test_GIVEN_bytes_Rekognition_refuses_WHEN_detected_THEN_the_same_error(text_detector, data, error):
    with pytest.raises(error):
        text_detector.detect_text(data)


def test_GIVEN_a_tiny_or_a_huge_png_WHEN_detected_THEN_refused_like_Rekognition(text_detector):
    import io

    from PIL import Image

    tiny, huge = io.BytesIO(), io.BytesIO()
    Image.new("RGB", (40, 40), "white").save(tiny, "PNG")
    Image.new("1", (10_001, 90), 1).save(huge, "PNG")

    with pytest.raises(InvalidImageFormatException):
        text_detector.detect_text(tiny.getvalue())
    with pytest.raises(ImageTooLargeException):
        text_detector.detect_text(huge.getvalue())
