"""Browser tests of the dashboard: the real `autotagger serve` (real pipeline, real local labeler)
on a free loopback port, driven through Debian's Chromium by Playwright. No browser download.

Screenshots for people to look at go to test-artifacts/screenshots/ (gitignored).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, LiveServer, drop_files, open_dashboard, sample_photo, screenshot


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("autotagger-data"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make browser` (Debian's chromium package)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server):
    page = open_dashboard(chromium, live_server)
    yield page
    errors = list(page.errors)
    page.context.close()
    assert not errors, f"errors in the page: {errors}"


@pytest.fixture(scope="session")
def photo_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("photos")
    files = {}
    for name in ("astronaut", "chelsea"):
        files[name] = folder / f"{name}.png"
        files[name].write_bytes(sample_photo(name))
    corrupt = folder / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 this is not a JPEG: the bytes after the magic number are text " * 20)
    files["corrupt"] = corrupt
    return files


@pytest.fixture(scope="session")
def uploaded_photos(chromium, live_server, photo_files):
    """astronaut.png and chelsea.png dropped on the page's upload zone; waits until both are tagged.

    Returns what the page showed for each file and the documents the API then holds."""
    page = open_dashboard(chromium, live_server)
    page.get_by_label("Key prefix").fill("photos/")
    drop_files(page, "#drop-zone", [photo_files["astronaut"], photo_files["chelsea"]])
    items = page.locator("#upload-list li")
    for name in ("astronaut.png", "chelsea.png"):
        item = items.filter(has_text=name)
        item.and_(page.locator("[data-state=tagged]")).wait_for(timeout=90000)
    outcomes = {name: {"status": items.filter(has_text=name).locator(".upload-status").inner_text(),
                       "progress": items.filter(has_text=name).locator("progress").get_attribute("value")}
                for name in ("astronaut.png", "chelsea.png")}
    screenshot(page, "upload-tagged")
    errors = list(page.errors)
    page.context.close()
    assert not errors, f"errors in the page: {errors}"
    documents = {doc["key"]: doc for doc in live_server.api("/v1/images", limit=100)["images"]}
    return {"outcomes": outcomes, "documents": documents}


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).parent == here:
            item.add_marker(pytest.mark.integration)
            item.add_marker(pytest.mark.models)
