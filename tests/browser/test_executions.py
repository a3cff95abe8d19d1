"""Executions: a failed execution's history shows the failing state with its error and cause."""

import json

import httpx
from browser_support import screenshot
from playwright.sync_api import expect


def test_GIVEN_a_corrupt_jpg_WHEN_uploaded_from_the_page_THEN_its_failed_execution_shows_the_failing_state_error_and_cause(
        live_server, page, photo_files):
    page.get_by_label("Key prefix").fill("broken/")
    page.locator("#file-input").set_input_files(str(photo_files["corrupt"]))
    row = page.locator("#upload-list li", has_text="corrupt.jpg")
    row.and_(page.locator("[data-state=failed]")).wait_for(timeout=60000)

    failed = [e for e in live_server.api("/v1/executions", status="FAILED")["executions"] if e.get("error")]
    # DetectLabels refuses it, so the workflow normalises it: Normalize is the state that fails
    execution = next(e for e in failed if e["error"] == "CorruptImage")
    page.get_by_label("Status", exact=True).select_option("FAILED")
    page.get_by_role("button", name=f"Open execution {execution['name']}").click()

    failing = page.locator(".step-failing")
    failing.wait_for()
    assert failing.locator(".step-name").inner_text() == "Normalize"
    assert failing.locator(".failing-flag").is_visible()
    error_group = failing.get_by_role("group", name="Error in Normalize")
    assert execution["error"] in error_group.inner_text()
    # the cause is the function's error as JSON: its message is shown, the whole record one click away
    assert json.loads(execution["cause"])["errorMessage"] in error_group.inner_text()
    assert "stackTrace" not in error_group.inner_text()
    error_group.get_by_text("Cause as recorded").click()
    assert "stackTrace" in error_group.inner_text()
    assert execution["error"] in row.inner_text()
    page.locator("#execution-panel").scroll_into_view_if_needed()
    screenshot(page, "execution-failing-state")


def test_GIVEN_a_dead_letter_WHEN_redriven_from_the_page_THEN_the_page_reports_it_sent_back(live_server, page):
    letters = httpx.get(f"{live_server.url}/v1/dead-letters", timeout=10).json()
    if not letters["workflow"]:  # this test's own dead letter, when it runs alone
        httpx.put(f"{live_server.url}/v1/image-vaults/redrive%2Fbad.jpg", content=b"\xff\xd8\xffnot a jpeg" * 10,
                  headers={"Content-Type": "image/jpeg"}, timeout=10).raise_for_status()
    page.get_by_role("button", name="Redrive all").wait_for()
    expect(page.get_by_role("button", name="Redrive all")).to_be_enabled(timeout=60000)
    page.get_by_role("button", name="Redrive all").click()
    expect(page.locator("#live-status")).to_contain_text("sent back for another try")
