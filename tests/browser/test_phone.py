"""Phone-sized screens: everything fits the width; nothing needs sideways scrolling of the page."""

from browser_support import PHONE, open_dashboard, screenshot


def test_GIVEN_a_phone_sized_screen_WHEN_the_dashboard_opens_THEN_the_page_fits_the_screen_width(uploaded_photos, chromium, live_server):
    page = open_dashboard(chromium, live_server, viewport=PHONE)
    try:
        page.wait_for_timeout(300)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        for name in ("Overview", "Gallery", "Upload", "Executions"):
            assert page.get_by_role("link", name=name).is_visible()
        assert page.get_by_label("Minimum confidence").is_visible()
        for image in page.locator("#gallery-list img").all():  # lazy images load once scrolled to
            image.scroll_into_view_if_needed()
        page.wait_for_load_state("networkidle")
        screenshot(page, "dashboard-phone", full_page=True)
        assert not page.errors
    finally:
        page.context.close()
