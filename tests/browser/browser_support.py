"""Helpers for the dashboard's browser tests: the real server in a subprocess, Chromium, pages."""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("AUTOTAGGER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


class AutotaggerProcess:
    """An `autotagger` subcommand (`serve`, `dashboard`, ...) on a free loopback port, in a subprocess;
    the URL comes from its first output line."""

    def __init__(self, *args: str, env: dict[str, str]):
        autotagger = shutil.which("autotagger", path=str(Path(sys.executable).parent)) or "autotagger"
        self.process = subprocess.Popen([autotagger, *args, "--host", "127.0.0.1", "--port", "0"],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        env={**os.environ, **env})
        self.output: list[str] = []
        self.url = self._wait_for_url(args[0], timeout=60)

    def _wait_for_url(self, command: str, timeout: float) -> str:
        found: list[str] = []

        def read() -> None:
            for line in self.process.stdout:
                self.output.append(line)
                match = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
                if match and not found:
                    found.append(match.group(1))

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not found and time.monotonic() < deadline and self.process.poll() is None:
            time.sleep(0.05)
        if not found:
            self.stop()
            pytest.fail(f"autotagger {command} did not start:\n" + "".join(self.output[-40:]))
        return found[0]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class LiveServer(AutotaggerProcess):
    """`autotagger serve` without an API key, once it answers /healthz."""

    def __init__(self, data_dir: Path):
        super().__init__("serve", "--data-dir", str(data_dir), env={"AUTOTAGGER_API_KEY": ""})
        self._wait_healthy(timeout=30)

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        pytest.fail("autotagger serve never answered /healthz:\n" + "".join(self.output[-40:]))

    def api(self, path: str, **params):
        response = httpx.get(f"{self.url}{path}", params=params, timeout=10)
        response.raise_for_status()
        return response.json()


def open_dashboard(chromium, live_server, viewport=DESKTOP):
    """A fresh page on the dashboard, once its first data load has finished; fails on page errors."""
    context = chromium.new_context(viewport=viewport)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    page.goto(f"{live_server.url}/")
    page.wait_for_selector("body[data-loaded=true]", state="attached", timeout=15000)
    return page


def screenshot(page, name: str, **options) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), **options)
    return path


def sample_photo(name: str) -> bytes:
    """A real photo from scikit-image's sample data, as PNG bytes."""
    from PIL import Image
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(getattr(data, name)()).save(buffer, "PNG")
    return buffer.getvalue()


def drop_files(page, selector: str, paths: list[Path]) -> None:
    """Drops files on an element as a person dragging them from the file manager would."""
    payload = [{"name": p.name, "type": "image/png" if p.suffix == ".png" else "image/jpeg",
                "data": base64.b64encode(p.read_bytes()).decode()} for p in paths]
    transfer = page.evaluate_handle("""(files) => {
        const transfer = new DataTransfer();
        for (const f of files) {
            const bytes = Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0));
            transfer.items.add(new File([bytes], f.name, { type: f.type }));
        }
        return transfer;
    }""", payload)
    page.dispatch_event(selector, "dragenter", {"dataTransfer": transfer})
    page.dispatch_event(selector, "dragover", {"dataTransfer": transfer})
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})
