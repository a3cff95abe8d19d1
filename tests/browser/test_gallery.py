"""The gallery: search by tags, open an image, see its labels and boxes."""

from playwright.sync_api import expect

from browser_support import screenshot


def _tag_only_on(documents, key):
    others = {tag for other, doc in documents.items() if other != key for tag in doc["tags"]}
    return next(tag for tag in documents[key]["tags"] if tag not in others)


def test_GIVEN_two_photos_WHEN_searching_a_tag_only_one_has_THEN_the_gallery_shows_only_that_photo(uploaded_photos, page):
    documents = uploaded_photos["documents"]
    tag = _tag_only_on(documents, "photos/chelsea.png")
    page.get_by_label("Tags", exact=True).fill(tag.lower())  # typed in lower case: matched to the known tag
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#gallery-summary")).to_have_text(f"1 image tagged {tag}.")
    gallery = page.get_by_role("list", name="Images")
    expect(gallery.get_by_role("button")).to_have_count(1)
    expect(gallery.get_by_role("button", name="Open photos/chelsea.png")).to_be_visible()


def test_GIVEN_a_tagged_photo_WHEN_opened_with_the_keyboard_THEN_its_labels_and_bounding_boxes_are_shown(uploaded_photos, page):
    document = next(doc for doc in uploaded_photos["documents"].values()
                    if any(label["instances"] for label in doc["labels"]))
    boxes_expected = sum(len(label["instances"]) for label in document["labels"])
    thumb = page.get_by_role("button", name=f"Open {document['key']}")
    thumb.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name=document["key"])
    dialog.wait_for()
    table_names = dialog.locator(".labels-table tbody th").all_inner_texts()
    assert table_names == [label["name"] for label in sorted(document["labels"], key=lambda l: -l["confidence"])]
    boxes = dialog.locator(".box")
    assert boxes.count() == boxes_expected
    box = boxes.first.bounding_box()
    image = dialog.locator(".viewer-stage img").bounding_box()
    assert box["width"] > 10 and box["height"] > 10
    assert image["x"] - 1 <= box["x"] and box["x"] + box["width"] <= image["x"] + image["width"] + 1
    screenshot(page, "image-viewer-boxes")
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
