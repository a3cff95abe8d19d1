"""Real uploads to a real `autotagger serve`: tagged and searchable, or dead-lettered with a reason."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest

from autotagger.domain.documents import document_id
from autotagger.normalize.errors import CorruptImage

from .conftest import sample_photo, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.models]

BUCKET = "image-vaults"


def _put(http, key: str, body: bytes, content_type: str = "image/png"):
    return http.put(f"/v1/{BUCKET}/{quote(key, safe='')}", content=body, headers={"Content-Type": content_type})


def _document(http, key: str):
    response = http.get(f"/v1/images/{document_id(BUCKET, key)}")
    return response.json() if response.status_code == 200 else None


def _dead_letter_for(http, key: str):
    for letter in http.get("/v1/dead-letters").json()["workflow"]:
        if letter["body"]["event"]["detail"]["object"]["key"] == key:
            return letter
    return None


def test_GIVEN_a_photo_WHEN_put_with_an_encoded_slash_THEN_an_empty_200_and_it_becomes_searchable(http):
    started = time.monotonic()
    response = _put(http, "raw-image/chelsea.png", sample_photo("chelsea.png"))

    assert (response.status_code, response.content) == (200, b"")
    wait_for(lambda: _document(http, "raw-image/chelsea.png"), timeout=30)
    print(f"upload-to-searchable latency: {time.monotonic() - started:.2f} s")
    found = http.get("/v1/images", params={"tag": "Cat"}).json()
    assert "raw-image/chelsea.png" in [d["key"] for d in found["images"]]


def test_GIVEN_a_tagged_photo_WHEN_getting_its_image_url_THEN_the_uploaded_bytes_come_back(http):
    photo = sample_photo("coffee.png")
    _put(http, "raw-image/coffee.png", photo)
    document = wait_for(lambda: _document(http, "raw-image/coffee.png"))

    response = http.get(document["image_url"])

    assert (response.content, response.headers["content-type"]) == (photo, "image/png")


def test_GIVEN_a_corrupt_jpeg_WHEN_put_THEN_a_dead_letter_gives_the_reason(http):
    corrupt = sample_photo("rocket.jpg")[:4000]  # a JPEG cut short

    assert _put(http, "raw-image/corrupt.jpg", corrupt, "image/jpeg").status_code == 200

    letter = wait_for(lambda: _dead_letter_for(http, "raw-image/corrupt.jpg"))
    # Rekognition refuses it, Normalize reads its magic bytes (a JPEG) and cannot decode it
    assert letter["reason"]["error"] == CorruptImage.__name__
    assert letter["reason"]["cause"]


def test_GIVEN_a_corrupt_jpeg_WHEN_put_THEN_its_execution_failed_in_the_Normalize_state_after_DetectLabels_refused_it(http):
    _put(http, "raw-image/corrupt-2.jpg", b"\xff\xd8\xff\xe0 definitely not a picture", "image/jpeg")
    letter = wait_for(lambda: _dead_letter_for(http, "raw-image/corrupt-2.jpg"))

    name = letter["reason"]["execution_id"].rsplit(":", 1)[-1]
    execution = http.get(f"/v1/executions/{quote(name, safe='')}").json()

    assert (execution["status"], execution["failed_state"]) == ("FAILED", "Normalize")
    failed = [(e["taskFailedEventDetails"].get("resource"), e["taskFailedEventDetails"]["error"])
              for e in execution["history"] if e["type"] == "TaskFailed"]
    # DetectLabels refused it (DetectText and DetectModerationLabels beside it too, caught in their
    # branches), then Normalize found it corrupt: the last failure, the one the execution ended with
    assert ("detectLabels", "Rekognition.InvalidImageFormatException") in failed
    assert failed[-1][1] == CorruptImage.__name__ and [error for _, error in failed].count(CorruptImage.__name__) == 1


@pytest.mark.parametrize("path, headers, body, status", [
    ("/v1/another-bucket/x.png", {"Content-Type": "image/png"}, b"x", 403),
    (f"/v1/{BUCKET}/refused-415.png", {"Content-Type": "text/plain"}, b"x", 415),
    (f"/v1/{BUCKET}/refused-413.png", {"Content-Type": "image/png"}, b"x" * (10 * 1024 * 1024 + 1), 413),
    (f"/v1/{BUCKET}/refused-400.png", {"Content-Type": "image/png"}, b"", 400),
    (f"/v1/{BUCKET}/{'k' * 1025}.png", {"Content-Type": "image/png"}, b"x", 400),
])
def test_GIVEN_a_request_the_api_refuses_WHEN_put_THEN_the_status_says_why_and_nothing_runs(
        http, path, headers, body, status):
    before = http.get("/v1/summary").json()["executions"]

    response = http.put(path, content=body, headers=headers)

    assert response.status_code == status and response.json()["message"] and response.json()["error"]
    assert http.get("/v1/summary").json()["executions"] == before


def test_GIVEN_an_indexed_photo_WHEN_deleted_THEN_its_document_leaves_the_index(http):
    _put(http, "raw-image/astronaut.png", sample_photo("astronaut.png"))
    wait_for(lambda: _document(http, "raw-image/astronaut.png"))

    assert http.delete(f"/v1/{BUCKET}/raw-image%2Fastronaut.png").status_code == 204

    wait_for(lambda: _document(http, "raw-image/astronaut.png") is None)
    keys = [d["key"] for d in http.get("/v1/images", params={"limit": 500}).json()["images"]]
    assert "raw-image/astronaut.png" not in keys


def test_GIVEN_good_and_bad_uploads_WHEN_all_settled_THEN_each_is_indexed_or_dead_lettered_once(http):
    good = {f"mix/good-{i}.png": sample_photo(name) for i, name in enumerate(["chelsea.png", "coffee.png"] * 2)}
    good["mix/good-jpeg.jpg"] = sample_photo("rocket.jpg")
    bad = {"mix/bad-1.jpg": b"\xff\xd8\xff junk", "mix/bad-2.png": b"\x89PNG\r\n\x1a\n junk",
           "mix/notes.txt": b"plain text"}
    for key, body in {**good, **bad}.items():
        assert _put(http, key, body, "application/octet-stream").status_code == 200

    def settled():
        images = http.get("/v1/images", params={"limit": 500}).json()["images"]
        indexed = [d["key"] for d in images if d["key"].startswith("mix/")]
        letters = [m["body"]["event"]["detail"]["object"]["key"]
                   for m in http.get("/v1/dead-letters").json()["workflow"]]
        dead = [k for k in letters if k.startswith("mix/")]
        return (indexed, dead) if len(indexed) + len(dead) >= len(good) + len(bad) else None

    indexed, dead = wait_for(settled, timeout=60, interval=0.2)
    assert sorted(indexed) == sorted(good) and sorted(dead) == sorted(bad)  # each exactly once


def test_GIVEN_uploads_WHEN_asking_their_outcome_THEN_indexed_with_tags_or_dead_lettered_with_the_reason(http):
    _put(http, "outcome/chelsea.png", sample_photo("chelsea.png"))
    _put(http, "outcome/broken.jpg", b"\xff\xd8\xff\xe0 not a picture", "image/jpeg")

    def outcome(key):
        answer = http.get(f"/v1/uploads/{BUCKET}/{quote(key, safe='')}").json()
        return answer if answer["status"] != "running" else None

    indexed, failed = wait_for(lambda: outcome("outcome/chelsea.png")), wait_for(lambda: outcome("outcome/broken.jpg"))
    assert (indexed["status"], indexed["id"]) == ("indexed", document_id(BUCKET, "outcome/chelsea.png"))
    assert "Cat" in indexed["document"]["tags"]
    assert (failed["status"], failed["dead_letter"]["reason"]["error"]) == (
        "dead_lettered", CorruptImage.__name__)
    assert http.get(f"/v1/uploads/{BUCKET}/outcome%2Fnever.png").status_code == 404


def test_GIVEN_the_server_WHEN_reading_openapi_THEN_the_upload_route_is_documented(http):
    assert "/v1/{bucket}/{object}" in http.get("/openapi.json").json()["paths"]


def test_GIVEN_the_server_WHEN_anything_is_answered_THEN_hardening_headers_are_present(http):
    headers = http.get("/healthz").headers

    assert headers["x-content-type-options"] == "nosniff" and "frame-ancestors 'none'" in headers[
        "content-security-policy"]
