"""The bad-input matrix through the HTTP API of a real `autotagger serve` (real labeler), each
case with the answer the user sees: a refusal with its status, a tagged image, or a dead letter
whose reason says why. Afterwards the server still works, nothing is written outside its data
dir, and the invariant holds for every upload it accepted.

What a PNG named .jpg gets: tagged. Rekognition decides by content (the key's extension only
passes the workflow's JPEG/PNG check), so the local pipeline tags it too.
"""

from __future__ import annotations

import hashlib
import threading
from urllib.parse import quote

import httpx
import pytest

from autotagger.config import Settings
from autotagger.domain.documents import document_id
from autotagger.local.stores import LocalStores

from . import bad_inputs as make
from .invariant import Ledger, assert_invariant, files_outside, outbox_pending
from .server_support import Server

pytestmark = [pytest.mark.integration, pytest.mark.models]

BUCKET = "image-vaults"
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("bad-input-workdir")


@pytest.fixture(scope="module")
def before(workdir):
    return {p.resolve() for p in workdir.rglob("*")}


@pytest.fixture(scope="module")
def server(models_ready, workdir, before):
    """The real server, started in its own empty working directory so stray files would show."""
    process = Server(workdir / "data", workdir.parent / f"{workdir.name}-server.log", fast=False, cwd=workdir).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def models_ready():
    from autotagger.models import cache

    if cache.problems():
        pytest.skip("local models not built: run `autotagger models build`")


@pytest.fixture(scope="module")
def ledger() -> Ledger:
    return Ledger()


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


def _put(http, ledger, key: str | None, body: bytes, content_type: str = "application/octet-stream",
         path: str | None = None):
    response = http.put(path or f"/v1/{BUCKET}/{quote(key, safe='')}", content=body,
                        headers={"Content-Type": content_type})
    if response.status_code == 200:
        ledger.uploaded(key, body)
    return response


def _outcome(http, key: str, timeout: float = 60.0) -> tuple[str, dict]:
    """("tagged", document) or ("dead letter", letter) once the upload of `key` has ended."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = http.get(f"/v1/images/{document_id(BUCKET, key)}")
        if found.status_code == 200:
            return "tagged", found.json()
        for letter in http.get("/v1/dead-letters", params={"limit": 1000}).json()["workflow"]:
            if letter["body"]["event"]["detail"]["object"]["key"] == key:
                return "dead letter", letter
        time.sleep(0.1)
    pytest.fail(f"no outcome for {key!r} within {timeout} s")


# -- refused before anything is stored ---------------------------------------------------------

@pytest.mark.parametrize("case, path, content_type, body, status", [
    ("empty body", f"/v1/{BUCKET}/empty.jpg", "image/jpeg", b"", 400),
    ("12 MB body", f"/v1/{BUCKET}/twelve.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * (12 * 1000 * 1000), 413),
    ("20 MB body", f"/v1/{BUCKET}/twenty.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * (20 * 1000 * 1000), 413),
    ("another bucket", "/v1/someone-elses-bucket/x.png", "image/png", make.photo(), 403),
    ("a 1025-byte key", f"/v1/{BUCKET}/{'k' * 1021}.png", "image/png", make.photo(), 400),
    ("a NUL in the key", f"/v1/{BUCKET}/nul%00.png", "image/png", make.photo(), 400),
    ("a newline in the key", f"/v1/{BUCKET}/line%0Abreak.png", "image/png", make.photo(), 400),
    ("an escape in the key", f"/v1/{BUCKET}/esc%1B%5B31m.png", "image/png", make.photo(), 400),
    ("a DEL in the key", f"/v1/{BUCKET}/del%7F.png", "image/png", make.photo(), 400),
    ("a TIFF sent as image/tiff", f"/v1/{BUCKET}/scan.tiff", "image/tiff", make.photo("TIFF"), 415),
])
def test_GIVEN_a_request_the_api_must_refuse_WHEN_put_THEN_the_status_says_why_and_nothing_is_stored(
        http, ledger, case, path, content_type, body, status):
    before = http.get("/v1/summary").json()["executions"]

    response = _put(http, ledger, None, body, content_type, path=path)

    assert (response.status_code, bool(response.json()["message"])) == (status, True), case
    assert http.get("/v1/summary").json()["executions"] == before


def test_GIVEN_a_key_never_uploaded_WHEN_deleted_THEN_204_as_s3_answers_and_no_execution_runs(http):
    before = http.get("/v1/summary").json()["executions"]

    response = http.delete(f"/v1/{BUCKET}/never%2Fuploaded.png")

    assert response.status_code == 204
    assert http.get("/v1/summary").json()["executions"] == before


# -- accepted, and what becomes of it -----------------------------------------------------------

CONTENT_CASES = [
    # (key, body, expected outcome, error name or None, a word the cause must contain)
    # Rekognition's refusals send the original to Normalize, which reads its content: the dead
    # letter gives Normalize's reason (autotagger.normalize.errors).
    ("content/truncated.jpg", make.truncated_jpeg(), "dead letter", "CorruptImage", "truncated"),
    ("content/random-bytes.jpg", bytes(range(256)) * 40, "dead letter", "UnsupportedImageFormat", "unrecognised"),
    ("content/png-named.jpg", make.photo("PNG"), "tagged", None, None),
    ("content/jpeg-named.png", make.photo("JPEG"), "tagged", None, None),
    ("content/anim.gif", make.gif(), "tagged", None, None),
    ("content/photo.webp", make.webp(), "tagged", None, None),
    ("content/photo.heic", make.heic(), "dead letter", "CorruptImage", "HEIF"),  # a header, no image
    ("content/drawing.svg", make.svg(), "dead letter", "Autotagger.UnsupportedObjectType", ".avif or .gif"),
    ("content/paper.pdf", make.pdf(), "dead letter", "Autotagger.UnsupportedObjectType", ".avif or .gif"),
    ("content/gif-named.jpg", make.gif(), "tagged", None, None),
    ("content/webp-named.jpg", make.webp(), "tagged", None, None),
    ("content/heic-named.jpg", make.heic(), "dead letter", "CorruptImage", "HEIF"),
    ("content/svg-named.png", make.svg(), "dead letter", "UnsupportedImageFormat", "SVG"),
    ("content/pdf-named.jpg", make.pdf(), "dead letter", "UnsupportedImageFormat", "PDF"),
    ("content/narrow-79px.png", make.png_of_size(79, 200), "dead letter", "ImageTooSmall", "80"),
    ("content/wide-10001px.png", make.png_of_size(10_001, 80), "dead letter", "ImageTooLarge", "10000"),
    ("content/bomb.png", make.decompression_bomb(), "dead letter", "ImageTooLarge", "pixels"),
]


@pytest.mark.parametrize("key, body, expected, error, word", CONTENT_CASES, ids=[c[0] for c in CONTENT_CASES])
def test_GIVEN_an_accepted_upload_WHEN_its_content_is_checked_THEN_it_is_tagged_or_dead_lettered_with_a_reason(
        http, ledger, key, body, expected, error, word):
    assert _put(http, ledger, key, body).status_code == 200

    outcome, detail = _outcome(http, key)

    assert outcome == expected
    if error is not None:
        assert detail["reason"]["error"] == error and word in detail["reason"]["cause"]


KEYS = [
    "keys/with spaces/a photo.png",
    "keys/a+b=c.png",
    "keys/100%2Fdone.png",             # a literal %2F inside the key
    "keys/ünïcödé/日本語の写真.png",
    "keys/📷 cat 🐱.png",
    "keys/" + "k" * (1024 - len("keys/") - len(".png")) + ".png",  # exactly 1024 bytes
    "../../../../etc/escape.png",
    "keys/../../outside.png",
    "/leading-slash.png",
    "~/home.png",
]


@pytest.mark.parametrize("key", KEYS, ids=["spaces", "plus", "percent-2F", "unicode", "emoji", "1024-bytes",
                                           "dot-dot", "dot-dot-inside", "leading-slash", "tilde"])
def test_GIVEN_an_unusual_but_valid_key_WHEN_put_THEN_it_is_tagged_under_exactly_that_key(http, ledger, key, workdir):
    assert len(key.encode("utf-8")) <= 1024
    assert _put(http, ledger, key, make.photo()).status_code == 200

    outcome, document = _outcome(http, key)

    assert (outcome, document["key"]) == ("tagged", key)
    for base in (workdir, workdir / "data", workdir / "data" / "objects"):  # the key named no file
        assert not (base / key.lstrip("/")).exists() and not (base / key).exists()


def test_GIVEN_a_leading_slash_in_the_raw_path_WHEN_put_THEN_the_key_starts_with_a_slash(http, ledger):
    body = make.photo("PNG", (170, 120))
    response = http.put(f"/v1/{BUCKET}//raw-leading.png", content=body, headers={"Content-Type": "image/png"})
    assert response.status_code == 200
    ledger.uploaded("/raw-leading.png", body)

    outcome, document = _outcome(http, "/raw-leading.png")

    assert (outcome, document["key"]) == ("tagged", "/raw-leading.png")


def test_GIVEN_one_key_uploaded_twice_at_once_WHEN_both_settle_THEN_one_document_holds_one_of_the_two(http, ledger):
    bodies = [make.photo("PNG", (200, 150)), make.photo("JPEG", (200, 150))]
    answers: list[int] = []

    def put(body):
        answers.append(_put(http, ledger, "race/same-key.png", body).status_code)

    threads = [threading.Thread(target=put, args=(b,)) for b in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert answers == [200, 200]
    outcome, document = _outcome(http, "race/same-key.png")
    assert outcome == "tagged" and document["etag"] in {hashlib.md5(b).hexdigest() for b in bodies}


# -- afterwards ---------------------------------------------------------------------------------

def test_GIVEN_the_whole_matrix_WHEN_a_good_image_follows_THEN_it_is_still_tagged(http, ledger, server):
    assert _put(http, ledger, "after/fine.jpg", make.photo("JPEG", (320, 240))).status_code == 200

    assert _outcome(http, "after/fine.jpg")[0] == "tagged" and server.alive


def test_GIVEN_the_whole_matrix_WHEN_settled_THEN_the_invariant_holds_and_no_file_is_outside_the_data_dir(
        http, ledger, server, workdir, before):
    import time

    deadline = time.monotonic() + 60
    while not (outbox_pending(server.data_dir) == 0 and http.get("/v1/summary").json()["stream_records_pending"] == 0
               and http.get("/v1/summary").json()["executions"]["RUNNING"] == 0):
        assert time.monotonic() < deadline, "the pipeline did not settle"
        time.sleep(0.1)
    server.stop()

    stores = LocalStores(Settings(data_dir=server.data_dir))
    try:
        report = assert_invariant(stores, ledger)
    finally:
        stores.close()
    assert files_outside(workdir, before, server.data_dir) == []
    assert "Traceback" not in server.log(), server.log()[-4000:]  # no worker crashed on any of it
    assert len(report.indexed) + len(report.dead_lettered) == len(ledger.keys())
