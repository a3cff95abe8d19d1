"""The gallery: search by tags, page by cursor, open an image, see its labels and boxes."""

import re

from browser_support import screenshot
from playwright.sync_api import expect


def _tag_only_on(documents, key):
    others = {tag for other, doc in documents.items() if other != key for tag in doc["tags"]}
    return next(tag for tag in documents[key]["tags"] if tag not in others)


def test_GIVEN_two_photos_WHEN_searching_a_tag_only_one_has_THEN_the_gallery_shows_only_that_photo(
        uploaded_photos, page):
    documents = uploaded_photos["documents"]
    tag = _tag_only_on(documents, "photos/chelsea.png")
    page.get_by_label("Tags", exact=True).fill(tag.lower())  # typed in lower case: matched to the known tag
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#gallery-summary")).to_have_text(f"1 image tagged {tag}.")
    gallery = page.get_by_role("list", name="Images")
    expect(gallery.get_by_role("button")).to_have_count(1)
    expect(gallery.get_by_role("button", name="Open photos/chelsea.png")).to_be_visible()


def test_GIVEN_a_tagged_photo_WHEN_opened_with_the_keyboard_THEN_its_labels_and_bounding_boxes_are_shown(
        uploaded_photos, page):
    document = next(doc for doc in uploaded_photos["documents"].values()
                    if any(label["instances"] for label in doc["labels"]))
    boxes_expected = sum(len(label["instances"]) for label in document["labels"])
    thumb = page.get_by_role("button", name=f"Open {document['key']}")
    thumb.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name=document["key"])
    dialog.wait_for()
    table_names = dialog.locator(".labels-table tbody th").all_inner_texts()
    assert table_names == [label["name"] for label in sorted(document["labels"], key=lambda lb: -lb["confidence"])]
    boxes = dialog.locator(".box")
    assert boxes.count() == boxes_expected
    box = boxes.first.bounding_box()
    image = dialog.locator(".viewer-stage img").bounding_box()
    assert box["width"] > 10 and box["height"] > 10
    assert image["x"] - 1 <= box["x"] and box["x"] + box["width"] <= image["x"] + image["width"] + 1
    screenshot(page, "image-viewer-boxes")
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")


def _noise_png(seed: int) -> bytes:
    import io

    import numpy as np
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (96, 96, 3), dtype=np.uint8)).save(out, "PNG")
    return out.getvalue()


def test_GIVEN_more_images_than_a_page_WHEN_clicking_more_THEN_the_next_page_is_appended_by_cursor_with_its_images(
        live_server, page):
    import httpx

    from autotagger.domain.documents import document_id

    keys = [f"paging/noise-{n:02d}.png" for n in range(26)]
    for n, key in enumerate(keys):
        httpx.put(f"{live_server.url}/v1/image-vaults/{key.replace('/', '%2F')}", content=_noise_png(n),
                  headers={"Content-Type": "image/png"}, timeout=30).raise_for_status()
    import time

    deadline = time.monotonic() + 120
    while any(httpx.get(f"{live_server.url}/v1/images/{document_id('image-vaults', key)}").status_code != 200
              for key in keys):
        assert time.monotonic() < deadline, "the uploads were not all tagged in time"
        time.sleep(0.5)

    def settled() -> bool:  # every execution ended and every record indexed: no live reload will come
        summary = live_server.api("/v1/summary")
        return not summary["executions"].get("RUNNING") and not summary["stream_records_pending"]

    while not settled():
        assert time.monotonic() < deadline, "the pipeline did not settle in time"
        time.sleep(0.5)
    total = live_server.api("/v1/images", limit=0)["total"]

    page.get_by_role("button", name="Search").click()
    gallery = page.get_by_role("list", name="Images")
    expect(gallery.get_by_role("button")).to_have_count(24)
    more = page.locator("#gallery-more")
    while more.is_visible():
        shown = gallery.get_by_role("button").count()
        more.click()
        expect(gallery.get_by_role("button")).not_to_have_count(shown)

    labels = gallery.get_by_role("button").evaluate_all("buttons => buttons.map((b) => b.getAttribute('aria-label'))")
    assert len(labels) == len(set(labels)) == total
    first = gallery.locator("img").first
    expect(first).to_have_attribute("src", re.compile(r"/v1/_local/image-vaults/.+signature="))
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=first.element_handle())
