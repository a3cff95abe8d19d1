"""The overview: image count, tag cloud, tag counts and pie chart, and the filters they honour."""

from browser_support import screenshot
from playwright.sync_api import expect


def test_GIVEN_two_tagged_photos_WHEN_the_dashboard_opens_THEN_the_image_count_matches_the_index(
        uploaded_photos, live_server, page):
    total = live_server.api("/v1/images", limit=1)["total"]
    assert total >= 2
    assert page.locator("#image-total").inner_text() == str(total)
    screenshot(page, "dashboard-overview")
    screenshot(page, "dashboard-full-page", full_page=True)


def test_GIVEN_tagged_photos_WHEN_the_dashboard_opens_THEN_the_tag_count_chart_lists_the_tags_with_their_counts(
        uploaded_photos, live_server, page):
    expected = [[entry["tag"], str(entry["count"])] for entry in live_server.api("/v1/stats/tags", top=60)][:15]
    page.locator("#tag-chart").locator("xpath=../..").get_by_text("Data").click()
    rows = page.locator("#tag-data tbody tr")
    shown = [[cell.inner_text() for cell in row.locator("td").all()] for row in rows.all()]
    assert shown == expected


def test_GIVEN_tagged_photos_WHEN_the_dashboard_opens_THEN_the_tag_cloud_shows_each_tag_as_a_button(
        uploaded_photos, live_server, page):
    tags = {entry["tag"] for entry in live_server.api("/v1/stats/tags", top=60)}
    cloud_words = page.locator("#tag-cloud [data-tag]")
    cloud_words.first.wait_for()
    drawn = {word.get_attribute("data-tag") for word in cloud_words.all()}
    assert drawn and drawn <= tags
    assert page.get_by_role("button", name=f"{sorted(drawn)[0]}:").count() == 1


def test_GIVEN_tagged_photos_WHEN_minimum_confidence_is_raised_to_100_THEN_no_image_is_counted(uploaded_photos, page):
    slider = page.get_by_label("Minimum confidence")
    slider.focus()
    slider.press("End")  # keyboard: the slider's maximum
    expect(page.locator("#min-confidence-value")).to_have_text("100%")
    expect(page.locator("#image-total")).to_have_text("0", timeout=10000)
    expect(page.locator("#tag-empty")).to_be_visible()
