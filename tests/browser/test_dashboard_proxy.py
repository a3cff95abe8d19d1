"""`autotagger dashboard --api …/v1` in front of a server that requires an API key: the page works
through the proxy, and the key never reaches the browser."""

from __future__ import annotations

import secrets
import time
from urllib.parse import quote

import httpx
import pytest
from browser_support import DESKTOP, AutotaggerProcess, sample_photo, screenshot
from playwright.sync_api import expect

from autotagger.config import API_KEY_ENV, DEFAULT_BUCKET
from autotagger.dashboard.proxy import API_BASE, API_KEY_HEADER

PHOTO_KEY = "photos/astronaut.png"


def _wait(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = check()
        except httpx.HTTPError:
            found = None
        if found:
            return found
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def api_key() -> str:
    return secrets.token_urlsafe(24)


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory, api_key):
    """`autotagger serve` requiring `api_key`, with one photo uploaded and tagged through its API."""
    server = AutotaggerProcess("serve", "--data-dir", str(tmp_path_factory.mktemp("keyed-data")), env={API_KEY_ENV: api_key})
    keyed = {API_KEY_HEADER: api_key}
    try:
        _wait(lambda: httpx.get(f"{server.url}/healthz", headers=keyed, timeout=2).status_code == 200, 30, "healthz")
        put = httpx.put(f"{server.url}{API_BASE}/{DEFAULT_BUCKET}/{quote(PHOTO_KEY, safe='')}",
                        content=sample_photo("astronaut"), headers={**keyed, "Content-Type": "image/png"}, timeout=30)
        assert put.status_code == 200, put.text
        images = f"{server.url}/v1/images"
        server.document = _wait(lambda: next(iter(httpx.get(images, headers=keyed, timeout=5).json()["images"]), None),
                                120, "the tagged photo")
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def proxy(keyed_server, api_key):
    dashboard = AutotaggerProcess("dashboard", "--api", f"{keyed_server.url}{API_BASE}", env={API_KEY_ENV: api_key})
    try:
        _wait(lambda: httpx.get(f"{dashboard.url}/", timeout=2).status_code == 200, 30, "the dashboard page")
        yield dashboard
    finally:
        dashboard.stop()


def test_GIVEN_a_server_requiring_a_key_WHEN_called_without_it_THEN_it_refuses(keyed_server):
    assert httpx.get(f"{keyed_server.url}/v1/images", timeout=5).status_code == 401  # the key is really needed


def test_GIVEN_the_proxy_WHEN_the_api_answers_an_error_THEN_the_status_and_error_body_reach_the_caller(
        keyed_server, proxy, api_key):
    direct = httpx.get(f"{keyed_server.url}/v1/images/no-such-image", headers={API_KEY_HEADER: api_key}, timeout=5)
    proxied = httpx.get(f"{proxy.url}/v1/images/no-such-image", timeout=5)
    assert (proxied.status_code, proxied.json()) == (direct.status_code, direct.json()) and direct.status_code == 404


def test_GIVEN_the_dashboard_pointed_at_a_keyed_api_WHEN_searching_THEN_it_shows_the_images_and_never_sends_the_key(
        chromium, keyed_server, proxy, api_key):
    document = keyed_server.document
    tag = document["tags"][0]
    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    errors: list[str] = []
    requests = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    context.on("request", lambda request: requests.append(request))
    try:
        page.goto(f"{proxy.url}/")
        page.wait_for_selector("body[data-loaded=true]", state="attached", timeout=15000)
        expect(page.locator("#image-total")).to_have_text("1")
        page.get_by_label("Tags", exact=True).fill(tag.lower())
        page.get_by_role("button", name="Search").click()
        expect(page.locator("#gallery-summary")).to_have_text(f"1 image tagged {tag}.")
        expect(page.get_by_role("list", name="Images").get_by_role("button", name=f"Open {PHOTO_KEY}")).to_be_visible()
        screenshot(page, "dashboard-proxy")

        assert len(requests) > 3  # the page, its modules and its API calls were all seen
        for request in requests:
            # Calls go through the proxy; image bytes come from the API's short-lived signed URLs
            # (a presigned S3 GET on AWS), which carry a signature, never the key.
            signed_image = request.url.startswith(keyed_server.url + "/v1/_local/") and "signature=" in request.url
            assert (request.url.startswith(proxy.url + "/") or request.url.startswith(("data:", "blob:"))
                    or signed_image), request.url
            headers = request.all_headers()
            assert API_KEY_HEADER not in {name.lower() for name in headers}, request.url
            sent = " ".join([request.url, *headers.values(), (request.post_data_buffer or b"").decode("latin-1")])
            assert api_key not in sent, request.url
    finally:
        context.close()
    assert not errors, f"errors in the page: {errors}"
