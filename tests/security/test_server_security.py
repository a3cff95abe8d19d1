"""The local server's defences, on the real server over loopback: where it binds, the API key,
size limits, no directory listing or path traversal, keys that never name files, and the
hardening headers on the dashboard."""

from __future__ import annotations

import hmac
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.robustness.fast_labeler import small_png
from tests.robustness.server_support import REPO, Server

pytestmark = [pytest.mark.integration]

KEY = "security-test-key-0123456789abcdef"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("security")
    process = Server(directory / "data", directory / "server.log").start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


# -- binding and the API key ---------------------------------------------------------------------

def test_GIVEN_no_host_option_WHEN_autotagger_serve_starts_THEN_it_listens_on_127_0_0_1_only(tmp_path):
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "autotagger", "serve", "--port", "0", "--data-dir",
                                    str(tmp_path / "data")], cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not re.search(r"on http://\S+", log.read_text()) and process.poll() is None:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        host, port = re.search(r"on http://([^:\s]+):(\d+)", log.read_text()).groups()
        listening = _listening_addresses(int(port))
    finally:
        process.terminate()
        process.wait(30)
    assert host == "127.0.0.1" and listening == {"127.0.0.1"}


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on `port`, from /proc/net/tcp and tcp6."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                if len(address) == 8:
                    found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
                else:
                    found.add("ipv6:" + address)
    return found


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20"])
def test_GIVEN_a_host_beyond_loopback_and_no_key_WHEN_serving_THEN_it_refuses_to_start(tmp_path, host, monkeypatch):
    from autotagger.cli import main

    monkeypatch.delenv("AUTOTAGGER_API_KEY", raising=False)

    assert main(["serve", "--host", host, "--port", "0", "--data-dir", str(tmp_path / "d")]) == 2
    assert not (tmp_path / "d").exists()  # refused before anything was created


@pytest.fixture(scope="module")
def keyed(tmp_path_factory):
    """The real `autotagger serve` (loopback) with an API key."""
    directory = tmp_path_factory.mktemp("keyed")
    process = Server(directory / "data", directory / "server.log", fast=False, args=["--api-key", KEY]).start()
    yield process
    process.stop()


@pytest.mark.parametrize("headers, params", [
    ({}, {}),
    ({"x-api-key": KEY[:-1] + "X"}, {}),                 # same length, last character wrong
    ({"x-api-key": KEY.upper()}, {}),
    ({"x-api-key": KEY + "0"}, {}),                      # the key plus one character
    ({"Authorization": f"Bearer {KEY}"}, {}),
    ({}, {"x-api-key": KEY}),                             # in the query string, not a header
], ids=["none", "last-char", "upper-case", "longer", "bearer", "query-string"])
def test_GIVEN_a_keyed_server_WHEN_the_key_is_not_exactly_in_the_header_THEN_401_and_nothing_stored(
        keyed, headers, params):
    response = httpx.put(f"{keyed.url}/v1/image-vaults/k.png", content=small_png(1), params=params,
                         headers={"Content-Type": "image/png", **headers})

    assert (response.status_code, response.json()["error"]) == (401, "unauthorized")
    assert httpx.get(f"{keyed.url}/v1/summary", headers={"x-api-key": KEY}).json()["executions"]["RUNNING"] == 0
    assert httpx.get(f"{keyed.url}/v1/summary", headers={"x-api-key": KEY}).json()["images_indexed"] == 0


def test_GIVEN_a_keyed_server_WHEN_the_key_is_sent_THEN_the_dashboard_and_the_api_answer(keyed):
    assert [httpx.get(f"{keyed.url}{path}", headers={"x-api-key": KEY}).status_code
            for path in ("/", "/v1/summary", "/openapi.json")] == [200, 200, 200]


def test_GIVEN_the_key_check_WHEN_a_key_is_compared_THEN_hmac_compare_digest_does_it(monkeypatch):
    """Constant time: the comparison is hmac.compare_digest, never ==."""
    import asyncio
    import concurrent.futures

    from autotagger.server import security

    compared, original = [], hmac.compare_digest
    monkeypatch.setattr(security.hmac, "compare_digest", lambda a, b: compared.append((a, b)) or original(a, b))
    sent = []

    async def app(scope, receive, send):  # pragma: no cover - never reached with a wrong key
        raise AssertionError("the request got through")

    async def send(message):
        sent.append(message)

    middleware = security.ApiKeyMiddleware(app, KEY)
    request = middleware({"type": "http", "headers": [(b"x-api-key", b"wrong")]}, None, send)
    # Its own thread and loop: Playwright's sync API (the browser tests) may leave a loop running here.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, request).result()

    assert compared == [(b"wrong", KEY.encode())] and sent[0]["status"] == 401


# -- limits ------------------------------------------------------------------------------------------

def test_GIVEN_a_body_over_10_MiB_without_a_length_WHEN_streamed_THEN_413_before_it_is_all_read(http):
    def chunks():
        for _ in range(12):
            yield b"\0" * (1024 * 1024)

    response = http.put("/v1/image-vaults/stream.png", content=chunks(), headers={"Content-Type": "image/png"})

    assert response.status_code == 413


@pytest.mark.parametrize("headers", [{"x-padding": "a" * (1024 * 1024)}, {f"x-h{i}": "a" * 200 for i in range(5000)}],
                         ids=["one-1-MB-header", "5000-headers"])
def test_GIVEN_oversized_headers_WHEN_sent_THEN_refused_and_the_server_still_answers(server, http, headers):
    try:
        status = httpx.get(f"{server.url}/healthz", headers=headers, timeout=30).status_code
    except (httpx.RemoteProtocolError, httpx.ReadError):
        status = 400  # the connection was closed on the oversized header
    assert 400 <= status < 500
    assert http.get("/healthz").status_code == 200


# -- no listing, no traversal, keys are not paths --------------------------------------------------------

@pytest.mark.parametrize("path", ["/static/", "/static", "/static/js/", "/v1/image-vaults/", "/v1/image-vaults",
                                  "/v1/", "/objects/", "/data/", "/v1/_local/", "/v1/_local/image-vaults/"])
def test_GIVEN_a_directory_like_path_WHEN_requested_THEN_no_listing_is_answered(http, path):
    response = http.get(path, follow_redirects=True)

    assert response.status_code in (404, 405) and "<a href" not in response.text


@pytest.mark.parametrize("raw_path", [
    b"/static/../../../../etc/passwd", b"/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    b"/static/..%2f..%2f..%2fpyproject.toml", b"/static/%2e%2e%5c%2e%2e%5cpyproject.toml",
    b"/static//etc/passwd",
])
def test_GIVEN_a_traversal_path_WHEN_requested_THEN_no_file_outside_the_static_folder_is_served(server, raw_path):
    with socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1]))) as conn:
        conn.sendall(b"GET " + raw_path + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk

    assert answer.split(b" ", 2)[1] in (b"400", b"404") and b"root:" not in answer and b"[project]" not in answer


@pytest.mark.parametrize("query", ["", "?expires=9999999999&signature=forged",
                                   "?expires=9999999999&content_type=image/png&size=3&signature=forged"])
def test_GIVEN_an_unsigned_or_forged_local_url_WHEN_used_THEN_403_and_nothing_read_or_stored(server, http, query):
    http.put("/v1/image-vaults/secret.png", content=small_png(7), headers={"Content-Type": "image/png"})

    read = http.get(f"/v1/_local/image-vaults/secret.png{query}")
    written = http.put(f"/v1/_local/image-vaults/planted.png{query}", content=b"abc",
                       headers={"Content-Type": "image/png"})

    assert (read.status_code, read.json()["error"], written.status_code) == (403, "forbidden", 403)
    assert http.get("/v1/uploads/image-vaults/planted.png").status_code == 404


def test_GIVEN_keys_that_look_like_paths_WHEN_uploaded_THEN_only_content_hashes_name_files(server, http):
    for i, key in enumerate(["../../escape.png", "/etc/cron.d/evil.png", "objects/../../x.png", "C:\\win\\x.png"]):
        assert http.put(f"/v1/image-vaults/{httpx.URL('').copy_with().path}{_quote(key)}", content=small_png(40 + i),
                        headers={"Content-Type": "image/png"}).status_code == 200

    names = [p.name for p in (server.data_dir / "objects").iterdir()]
    assert names and all(re.fullmatch(r"[0-9a-f]{64}|\.tmp-.*", name) for name in names)
    assert not (server.data_dir.parent / "escape.png").exists() and not (server.data_dir / "x.png").exists()


def _quote(key: str) -> str:
    from urllib.parse import quote

    return quote(key, safe="")


# -- headers -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/static/js/main.js", "/v1/summary", "/no-such-page"])
def test_GIVEN_the_dashboard_and_api_WHEN_answered_THEN_the_hardening_headers_are_set(http, path):
    headers = http.get(path).headers

    assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "server" not in headers
