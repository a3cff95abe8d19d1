"""Boxes line up on a photo stored sideways: a phone's JPEG with an EXIF orientation and a HEIC,
made here from a sample photo, are tagged with boxes relative to the upright picture (the same as
the upright photo's), and the viewer draws them on the upright image it shows."""

from __future__ import annotations

import io
import time

import httpx
import pytest
from browser_support import LiveServer, sample_photo, screenshot
from PIL import Image

from autotagger.config import DEFAULT_BUCKET
from tests.normalize.images import photo

KEYS = {"upright": "rotated/chelsea-upright.jpg", "sideways_jpeg": "rotated/chelsea-sideways.jpg",
        "sideways_heic": "rotated/chelsea-sideways.heic"}


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """A server of its own: these photos would otherwise change what the session's gallery tests find."""
    server = LiveServer(tmp_path_factory.mktemp("autotagger-rotated"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def rotated_documents(live_server):
    upright = Image.open(io.BytesIO(sample_photo("chelsea"))).convert("RGB")  # 451 x 300, landscape
    bodies = {
        KEYS["upright"]: (photo("jpeg", 1, scene=upright, quality=95), "image/jpeg"),
        KEYS["sideways_jpeg"]: (photo("jpeg", 6, scene=upright, quality=95), "image/jpeg"),  # pixels 300 x 451
        KEYS["sideways_heic"]: (photo("heic", 8, scene=upright, quality=95), "image/heic"),
    }
    for key, (body, media_type) in bodies.items():
        response = httpx.put(f"{live_server.url}/v1/{DEFAULT_BUCKET}/{key}", content=body,
                             headers={"Content-Type": media_type}, timeout=30)
        assert response.status_code == 200, response.text
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = {d["key"]: d for d in live_server.api("/v1/images", limit=500)["images"] if d["key"] in bodies}
        if len(found) == len(bodies):
            return found
        time.sleep(0.5)
    pytest.fail(f"not all rotated photos were tagged: {sorted(found)}")


def _boxes(document) -> dict[str, dict]:
    return {label["name"]: label["instances"][0]["bounding_box"] for label in document["labels"] if label["instances"]}


def test_GIVEN_a_photo_stored_sideways_WHEN_tagged_THEN_its_boxes_are_those_of_the_upright_photo(rotated_documents):
    reference = _boxes(rotated_documents[KEYS["upright"]])
    assert reference, "the upright photo needs at least one box for this comparison"
    for key in (KEYS["sideways_jpeg"], KEYS["sideways_heic"]):
        boxes = _boxes(rotated_documents[key])
        shared = set(boxes) & set(reference)
        assert shared, (key, boxes, reference)
        for name in shared:
            for side in ("left", "top", "width", "height"):
                assert boxes[name][side] == pytest.approx(reference[name][side], abs=0.05), (key, name, side)


@pytest.mark.parametrize("which", ["sideways_jpeg", "sideways_heic"])
def test_GIVEN_a_photo_stored_sideways_WHEN_opened_in_the_viewer_THEN_the_boxes_sit_on_the_upright_image(
        rotated_documents, page, which):
    document = rotated_documents[KEYS[which]]
    page.get_by_role("button", name=f"Open {document['key']}").click()
    dialog = page.get_by_role("dialog", name=document["key"])
    dialog.wait_for()
    image = dialog.locator(".viewer-stage img")
    image.evaluate("img => img.decode()")
    natural = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert natural == [451, 300]  # shown upright (EXIF applied by the browser, or the upright derivative)
    shown = image.bounding_box()
    box_element = dialog.locator(".box").first
    # the viewer draws the labels most confident first: its first box is that label's first instance
    first = next(label for label in sorted(document["labels"], key=lambda label: -label["confidence"])
                 if label["instances"])
    box, expected = box_element.bounding_box(), first["instances"][0]["bounding_box"]
    assert box["x"] - shown["x"] == pytest.approx(expected["left"] * shown["width"], abs=3)
    assert box["y"] - shown["y"] == pytest.approx(expected["top"] * shown["height"], abs=3)
    assert box["width"] == pytest.approx(expected["width"] * shown["width"], abs=3)
    screenshot(page, f"rotated-photo-{which.replace('_', '-')}")
