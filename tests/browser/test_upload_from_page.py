"""Uploading from the page: many files dropped at once, each with its own progress and outcome."""


def test_GIVEN_two_photos_WHEN_dropped_on_the_upload_zone_THEN_each_shows_a_full_progress_bar_and_its_tags(
        uploaded_photos):
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
    # Rekognition refuses it; Normalize finds a PNG signature it cannot decode. The row gives the
    # function's message, not the JSON (and stack trace) Step Functions records as the cause.
    status = row.locator(".upload-status").inner_text()
    assert "Not tagged: CorruptImage (The PNG data is corrupt or truncated" in status
    assert "stackTrace" not in status


def test_GIVEN_a_png_over_the_direct_put_limit_WHEN_uploaded_from_the_page_THEN_it_goes_by_ticket_and_is_tagged(
        page, tmp_path):
    import io

    import numpy as np
    from PIL import Image

    big = tmp_path / "big-noise.png"
    out = io.BytesIO()
    Image.fromarray(np.random.default_rng(11).integers(0, 256, (2100, 2100, 3), dtype=np.uint8)).save(
        out, "PNG", compress_level=1)
    big.write_bytes(out.getvalue())
    assert 10 * 1024 * 1024 < big.stat().st_size < 15 * 1024 * 1024  # over the 10 MiB of PUT /v1/{bucket}/{object}
    tickets = []
    page.on("request", lambda request: tickets.append(request.url) if request.url.endswith("/v1/uploads") else None)

    page.get_by_label("Key prefix").fill("large/")
    page.locator("#file-input").set_input_files(str(big))
    row = page.locator("#upload-list li", has_text="big-noise.png")
    row.and_(page.locator("[data-state=tagged]")).wait_for(timeout=120000)

    assert len(tickets) == 1 and row.locator("progress").get_attribute("value") == "100"
