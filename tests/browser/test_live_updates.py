"""Live updates: the open dashboard follows the pipeline without a reload."""

import httpx
from browser_support import sample_photo
from playwright.sync_api import expect


def test_GIVEN_the_dashboard_open_WHEN_another_client_uploads_a_photo_THEN_the_image_count_rises_without_a_reload(live_server, page):
    before = int(page.locator("#image-total").inner_text())
    page.evaluate("window.__sameDocument = true")
    response = httpx.put(f"{live_server.url}/v1/image-vaults/live%2Fcoffee.png", content=sample_photo("coffee"),
                         headers={"Content-Type": "image/png"}, timeout=30)
    assert response.status_code == 200
    expect(page.locator("#image-total")).to_have_text(str(before + 1), timeout=60000)
    assert page.evaluate("window.__sameDocument") is True
    assert page.get_by_role("button", name="Open live/coffee.png").count() == 1
