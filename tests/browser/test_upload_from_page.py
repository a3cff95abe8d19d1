"""Uploading from the page: many files dropped at once, each with its own progress and outcome."""


def test_GIVEN_two_photos_WHEN_dropped_on_the_upload_zone_THEN_each_shows_a_full_progress_bar_and_its_tags(uploaded_photos):
    for name, outcome in uploaded_photos["outcomes"].items():
        document = uploaded_photos["documents"][f"photos/{name}"]
        assert outcome["progress"] == "100"
        assert outcome["status"].startswith("Tagged: "), outcome
        assert document["tags"][0] in outcome["status"]


def test_GIVEN_a_file_the_server_refuses_WHEN_uploaded_from_the_page_THEN_its_row_says_why(page, tmp_path):
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not an image")
    page.get_by_label("Bucket").fill("another-bucket")
    page.locator("#file-input").set_input_files(str(text_file))
    row = page.locator("#upload-list li", has_text="notes.txt")
    row.and_(page.locator("[data-state=rejected]")).wait_for(timeout=15000)
    assert "Rejected (HTTP 403)" in row.locator(".upload-status").inner_text()


def test_GIVEN_a_file_that_is_not_an_image_inside_WHEN_uploaded_from_the_page_THEN_its_row_gives_the_dead_letters_reason(
        page, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"no pixels here")  # a PNG by its name and magic, not inside
    page.locator("#file-input").set_input_files(str(broken))
    row = page.locator("#upload-list li", has_text="broken.png")
    row.and_(page.locator("[data-state=failed]")).wait_for(timeout=60000)
    assert "Not tagged: Rekognition.InvalidImageFormatException" in row.locator(".upload-status").inner_text()
