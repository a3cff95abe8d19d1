"""Text and moderation on the dashboard (issue 14): the viewer draws the words' boxes where
DetectText put them, a flagged image is blurred in the gallery until it is revealed, the counters
show the flagged images and the failed analyses, and the viewer says which analysis failed.

The documents are seeded the way the indexer writes them (a workflow record with DetectText's and
DetectModerationLabels' answers -> `parse_record` -> `action_from_record` -> the SQLite index of the
server's data dir), over objects put in its bucket: what is checked is the page, not the analysers.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from browser_support import LiveServer, sample_photo, screenshot
from PIL import Image, ImageDraw, ImageFont
from playwright.sync_api import expect

from autotagger.config import DEFAULT_BUCKET, INDEX_FILE
from autotagger.domain.documents import action_from_record, document_id, parse_record
from autotagger.index.sqlite import SQLiteIndex
from autotagger.local.bucket import LocalBucket

SIGN = "words/harbour-sign.png"
FLAGGED = "moderation/flagged.png"
UNFLAGGED = "moderation/below-threshold.png"
LINES = [["HARBOUR", "ROAD"], ["closed", "Sundays"]]
MODERATION_ERROR = {"analysis": "moderation", "error": "Rekognition.ThrottlingException",
                    "cause": "Rate exceeded (seeded: the branch's Catch recorded it)"}


def _sign() -> tuple[bytes, list[dict]]:
    """A sign with two lines of words drawn on it, and DetectText's answer for it: each WORD's box
    is where the word was drawn, as ratios of the image (Rekognition's BoundingBox)."""
    width, height = 640, 320
    image = Image.new("RGB", (width, height), "#e8eef4")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=56)
    detections: list[dict] = []
    for row, words in enumerate(LINES):
        x, y = 40, 60 + row * 130
        line_id = len(detections)
        detections.append({"DetectedText": " ".join(words), "Type": "LINE", "Id": line_id, "Confidence": 99.0})
        for word in words:
            left, top, right, bottom = draw.textbbox((x, y), word, font=font)
            draw.text((x, y), word, font=font, fill="#10243a")
            box = {"Width": (right - left) / width, "Height": (bottom - top) / height,
                   "Left": left / width, "Top": top / height}
            detections.append({"DetectedText": word, "Type": "WORD", "Id": len(detections), "ParentId": line_id,
                               "Confidence": 97.0, "Geometry": {"BoundingBox": box, "Polygon": [
                                   {"X": box["Left"], "Y": box["Top"]}, {"X": box["Left"] + box["Width"], "Y": box["Top"]},
                                   {"X": box["Left"] + box["Width"], "Y": box["Top"] + box["Height"]},
                                   {"X": box["Left"], "Y": box["Top"] + box["Height"]}]}})
            x = right + 28
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue(), detections


def _moderation(confidence: float) -> dict:
    return {"ModerationModelVersion": "7.0", "ModerationLabels": [
        {"Name": "Violence", "ParentName": "", "TaxonomyLevel": 1, "Confidence": confidence},
        {"Name": "Graphic Violence", "ParentName": "Violence", "TaxonomyLevel": 2, "Confidence": confidence - 5.0}]}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """A data dir holding three images and their index documents, then a server on it."""
    data_dir = tmp_path_factory.mktemp("autotagger-text-moderation")
    sign, detections = _sign()
    # The summary's threshold, read back below, decides: one image well above, one well below it.
    bodies = {SIGN: (sign, {"text": {"TextModelVersion": "3.0", "TextDetections": detections},
                            "moderation": None, "analysis_errors": [MODERATION_ERROR]}),
              FLAGGED: (sample_photo("chelsea"), {"text": {"TextDetections": []}, "moderation": _moderation(92.0)}),
              UNFLAGGED: (sample_photo("astronaut"), {"text": {"TextDetections": []}, "moderation": _moderation(20.0)})}
    bucket = LocalBucket(data_dir, DEFAULT_BUCKET)
    actions = []
    for n, (key, (body, analyses)) in enumerate(bodies.items()):
        stored = bucket.put(key, body, "image/png")
        record = {"action": "upsert", "bucket": DEFAULT_BUCKET, "key": key, "size": stored.size, "etag": stored.etag,
                  "sequencer": stored.sequencer, "event_time": f"2026-11-27T10:0{n}:00Z",
                  "labels": [{"Name": "Sign" if key == SIGN else "Cat", "Confidence": 90.0, "Instances": [
                      {"Confidence": 90.0, "BoundingBox": {"Width": 0.9, "Height": 0.8, "Left": 0.05, "Top": 0.1}}]}],
                  **analyses}
        actions.append(action_from_record(parse_record(record), datetime.now(UTC)))
    bucket.close()
    index = SQLiteIndex(data_dir / INDEX_FILE)
    assert {result["status"] for result in index.apply(actions)} == {"applied"}
    index.close()
    server = LiveServer(data_dir)
    yield server, {action["document"]["key"]: action["document"] for action in actions}
    server.stop()


@pytest.fixture(scope="module")
def live_server(seeded):
    """The `page` fixture opens the dashboard of this module's own server."""
    return seeded[0]


@pytest.fixture
def documents(seeded):
    return seeded[1]


def test_GIVEN_flagged_and_failed_images_WHEN_the_page_loads_THEN_the_counters_show_them(live_server, page):
    summary = live_server.api("/v1/summary")
    assert (summary["flagged"], summary["analysis_errors"], summary["images_indexed"]) == (1, 1, 3)
    assert 20.0 < summary["moderation_threshold"] <= 92.0  # the seeded images sit on either side of it
    expect(page.locator("#summary-flagged")).to_have_text("1")
    expect(page.locator("#summary-analysis-errors")).to_have_text("1")
    expect(page.locator("#summary-indexed")).to_have_text("3")


def _filter(locator) -> str:
    return locator.evaluate("img => getComputedStyle(img).filter")


def _detail(png: bytes) -> float:
    """Mean difference between neighbouring pixels of the bottom fifth (below the "Show image"
    button): high for a sharp photo, low once blurred."""
    image = Image.open(io.BytesIO(png)).convert("L")
    strip = image.crop((0, image.height * 4 // 5, image.width, image.height))
    pixels, width = strip.tobytes(), strip.width
    steps = [abs(pixels[i] - pixels[i + 1]) for i in range(len(pixels) - 1) if (i + 1) % width]
    return sum(steps) / len(steps)


def test_GIVEN_a_flagged_image_WHEN_the_gallery_shows_it_THEN_it_is_blurred_until_revealed_by_a_click(
        page, tmp_path):
    gallery = page.get_by_role("list", name="Images")
    flagged = gallery.locator("li", has=page.get_by_role("button", name=f"Open {FLAGGED}"))
    unflagged = gallery.locator("li", has=page.get_by_role("button", name=f"Open {UNFLAGGED}"))
    image = flagged.locator("img")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    expect(flagged.get_by_role("button", name=f"Open {FLAGGED}")).to_have_accessible_name(
        f"Open {FLAGGED} (tags: Cat) (flagged: Violence)")
    assert "blur(" in _filter(image)
    assert _filter(unflagged.locator("img")) == "none"  # moderation labels below the threshold: shown
    blurred = image.screenshot(path=str(tmp_path / "flagged-blurred.png"))
    screenshot(page, "gallery-flagged-blurred")

    flagged.get_by_role("button", name="Flagged: Violence. Show image").click()
    expect(flagged.get_by_role("button", name="Flagged: Violence. Show image")).to_have_count(0)
    assert _filter(image) == "none"
    revealed = image.screenshot(path=str(tmp_path / "flagged-revealed.png"))
    assert _detail(blurred) < _detail(revealed) / 3, (_detail(blurred), _detail(revealed))
    # revealed stays revealed in the viewer too (the click was the person's choice for this image)
    flagged.get_by_role("button", name=f"Open {FLAGGED}").click()
    dialog = page.get_by_role("dialog", name=FLAGGED)
    dialog.wait_for()
    assert _filter(dialog.locator(".viewer-stage img")) == "none"
    expect(dialog.locator(".moderation-table tbody th")).to_have_text(["Violence", "Graphic Violence"])


def test_GIVEN_a_flagged_image_not_revealed_WHEN_opened_in_the_viewer_THEN_it_is_blurred_there_too(page):
    page.get_by_role("button", name=f"Open {FLAGGED}").click()
    dialog = page.get_by_role("dialog", name=FLAGGED)
    dialog.wait_for()
    image = dialog.locator(".viewer-stage img")
    assert "blur(" in _filter(image)
    dialog.get_by_role("button", name="Flagged: Violence. Show image").click()
    assert _filter(image) == "none"
    expect(dialog.get_by_role("region", name="Moderation")).to_contain_text("Flagged: highest confidence 92.0%.")


def test_GIVEN_an_image_with_words_WHEN_opened_THEN_their_boxes_are_drawn_where_detected_and_can_be_hidden(
        page, documents):
    document = documents[SIGN]
    words = document["text_words"]
    assert len(words) == 4
    page.get_by_role("button", name=f"Open {SIGN}").click()
    dialog = page.get_by_role("dialog", name=SIGN)
    dialog.wait_for()
    image = dialog.locator(".viewer-stage img")
    image.evaluate("img => img.decode()")
    shown = image.bounding_box()
    boxes = dialog.locator(".text-box")
    expect(boxes).to_have_count(len(words))
    for n, word in enumerate(words):
        drawn, expected = boxes.nth(n).bounding_box(), word["box"]
        assert drawn["x"] - shown["x"] == pytest.approx(expected["left"] * shown["width"], abs=2), word
        assert drawn["y"] - shown["y"] == pytest.approx(expected["top"] * shown["height"], abs=2), word
        assert drawn["width"] == pytest.approx(expected["width"] * shown["width"], abs=2), word
        assert drawn["height"] == pytest.approx(expected["height"] * shown["height"], abs=2), word
    # the text style differs from the labels' boxes
    text_style = boxes.first.evaluate("b => getComputedStyle(b).borderTopStyle")
    label_style = dialog.locator(".box").first.evaluate("b => getComputedStyle(b).borderTopStyle")
    assert (text_style, label_style) == ("dashed", "solid")

    dialog.get_by_label("Text (4 words)").uncheck()
    expect(boxes.first).to_be_hidden()
    expect(dialog.locator(".box").first).to_be_visible()
    dialog.get_by_label("Text (4 words)").check()
    expect(boxes.first).to_be_visible()

    expect(dialog.get_by_role("region", name="Text in the image")).to_contain_text("HARBOUR ROAD\nclosed Sundays")
    errors = dialog.get_by_role("region", name="Analysis errors")
    expect(errors).to_contain_text("moderation analysis failed:")
    expect(errors).to_contain_text("Rekognition.ThrottlingException")
    expect(errors).to_contain_text(MODERATION_ERROR["cause"])
    expect(dialog.get_by_role("region", name="Moderation")).to_contain_text("Not analysed.")
    assert _filter(image) == "none"  # not analysed for moderation: nothing to blur
    screenshot(page, "text-boxes-viewer")


def test_GIVEN_the_seeded_documents_WHEN_read_through_the_api_THEN_they_carry_the_new_fields(live_server):
    image = live_server.api(f"/v1/images/{document_id(DEFAULT_BUCKET, FLAGGED)}")
    assert image["moderation"]["max_confidence"] == 92.0 and image["text"] == "" and image["analysis_errors"] == []


def test_GIVEN_words_and_a_flagged_image_WHEN_searching_by_text_or_hiding_flagged_THEN_the_gallery_follows(page):
    gallery = page.get_by_role("list", name="Images")
    buttons = gallery.get_by_role("button", name="Open ")
    expect(buttons).to_have_count(3)

    page.get_by_label("Text in the image").fill("harbour")  # any case: the sign says HARBOUR
    page.get_by_role("button", name="Search", exact=True).click()
    expect(buttons).to_have_count(1)
    expect(gallery.get_by_role("button", name=f"Open {SIGN}")).to_be_visible()
    expect(page.locator("#gallery-summary")).to_contain_text("harbour")

    page.get_by_label("Text in the image").fill("")
    page.get_by_label("Hide flagged images").check()  # checking it searches again
    expect(buttons).to_have_count(2)
    expect(gallery.get_by_role("button", name=f"Open {FLAGGED}", exact=False)).to_have_count(0)
