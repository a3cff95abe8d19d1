"""The `/v1` read API on a real `autotagger serve` over loopback: case-insensitive search with a
cursor, signed image URLs, a 12 MB upload through its ticket, executions by key, dead letters and
redrive, and the one error shape."""

from __future__ import annotations

import io
from urllib.parse import quote

import httpx
import numpy as np
import pytest
from PIL import Image

from autotagger.api.service import MAX_UPLOAD_BYTES
from autotagger.contracts import DERIVATIVES_PREFIX, NORMALIZED_MAX_SIDE
from autotagger.domain.documents import document_id
from tests.normalize.images import noise_jpeg

from .conftest import sample_photo, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.models]

BUCKET = "image-vaults"


def put(http, key: str, body: bytes, content_type: str = "image/png"):
    response = http.put(f"/v1/{BUCKET}/{quote(key, safe='')}", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 200, response.text


def settled(http, key: str):
    answer = http.get(f"/v1/uploads/{BUCKET}/{quote(key, safe='')}").json()
    return answer if answer["status"] in ("indexed", "dead_lettered") else None


def assert_error(response, status, error):
    assert (response.status_code, sorted(response.json()), response.json()["error"]) == (
        status, ["error", "message"], error), response.text


def test_GIVEN_cats_WHEN_searching_lowercase_cat_page_by_page_THEN_every_cat_comes_once(http):
    keys = [f"search/cat-{n}.png" for n in range(3)]
    for key in keys:
        put(http, key, sample_photo("chelsea.png"))
    for key in keys:
        wait_for(lambda key=key: settled(http, key), timeout=60)

    seen, params = [], {"tag": "cat", "limit": 1}
    while True:
        page = http.get("/v1/images", params=params).json()
        seen += [image["key"] for image in page["images"]]
        if not page["next_cursor"]:
            break
        params = {**params, "cursor": page["next_cursor"]}

    assert len(seen) == len(set(seen)) == page["total"] and set(keys) <= set(seen)
    assert "Cat" in http.get(f"/v1/images/{document_id(BUCKET, keys[0])}").json()["tags"]


def test_GIVEN_an_indexed_image_WHEN_following_its_image_url_THEN_the_bytes_and_a_changed_url_is_refused(http):
    photo = sample_photo("coffee.png")
    put(http, "urls/coffee.png", photo)
    wait_for(lambda: settled(http, "urls/coffee.png"))

    url = http.get(f"/v1/images/{document_id(BUCKET, 'urls/coffee.png')}").json()["image_url"]

    assert url.startswith(f"{http.base_url}".rstrip("/") + "/v1/_local/")
    assert httpx.get(url, timeout=10).content == photo
    assert_error(httpx.get(url.replace("signature=", "signature=x"), timeout=10), 403, "forbidden")


def noise_png(approx_bytes: int) -> bytes:
    side = int((approx_bytes / 3) ** 0.5)
    pixels = np.random.default_rng(7).integers(0, 256, (side, side, 3), dtype=np.uint8)  # incompressible
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def upload_by_ticket(http, key: str, body: bytes, content_type: str, timeout: float) -> dict:
    """POST /v1/uploads for a ticket, send the bytes as it says, and wait until the image settles."""
    ticket = http.post("/v1/uploads", json={"key": key, "content_type": content_type, "size": len(body)}).json()
    response = httpx.request(ticket["method"], ticket["url"], content=body, headers=ticket["headers"],
                             timeout=timeout)
    assert response.status_code == 200, response.text
    return wait_for(lambda: settled(http, key), timeout=timeout * 1.5)


def test_GIVEN_a_12_MB_image_WHEN_uploaded_through_a_ticket_THEN_it_is_stored_and_tagged(http):
    body = noise_png(12 * 1024 * 1024)
    assert 12 * 1024 * 1024 <= len(body) < 15 * 1024 * 1024  # over the direct PUT's limit, under Rekognition's

    outcome = upload_by_ticket(http, "large/noise.png", body, "image/png", timeout=60)

    assert (outcome["status"], outcome["document"]["size"]) == ("indexed", len(body))


def test_GIVEN_a_40_MB_camera_jpeg_WHEN_uploaded_through_a_ticket_THEN_it_is_normalised_and_tagged(http):
    body = noise_jpeg(7_000, 5_000)
    assert 38 * 2**20 < len(body) <= MAX_UPLOAD_BYTES  # over Rekognition's 15 MB, within the ticket's limit

    outcome = upload_by_ticket(http, "camera/DSC_0040.JPG", body, "image/jpeg", timeout=120)

    assert (outcome["status"], outcome["document"]["size"]) == ("indexed", len(body))
    # the original keeps its identity; its upright derivative, scaled to the documented side, was analysed
    assert outcome["document"]["analyzed_key"].startswith(DERIVATIVES_PREFIX)
    assert max(outcome["document"]["normalized"]["width"], outcome["document"]["normalized"]["height"]) == \
        NORMALIZED_MAX_SIDE


@pytest.mark.parametrize("headers, body", [({"Content-Type": "image/jpeg"}, b"x" * 64),
                                           ({"Content-Type": "image/png"}, b"x" * 63)])
def test_GIVEN_a_ticket_WHEN_the_body_has_another_type_or_size_THEN_refused_and_nothing_stored(http, headers, body):
    ticket = http.post("/v1/uploads", json={"key": "large/mismatch.png", "content_type": "image/png",
                                            "size": 64}).json()

    assert_error(httpx.put(ticket["url"], content=body, headers=headers, timeout=10), 403, "forbidden")
    assert_error(http.get(f"/v1/uploads/{BUCKET}/large%2Fmismatch.png"), 404, "not_found")


def test_GIVEN_three_uploads_of_one_key_WHEN_listing_its_executions_by_cursor_THEN_each_run_once(http):
    for _ in range(3):
        put(http, "runs/same.png", sample_photo("chelsea.png"))

    def walk():
        names, params = [], {"key": "runs/same.png", "limit": 1}
        while True:
            page = http.get("/v1/executions", params=params).json()
            names += [e["name"] for e in page["executions"]]
            if not page["next_cursor"]:
                return names
            params = {**params, "cursor": page["next_cursor"]}

    def three_runs():
        names = walk()
        return names if len(names) >= 3 else None

    names = wait_for(three_runs, timeout=60)
    assert len(names) == len(set(names)) == 3
    for name in names:
        assert http.get(f"/v1/executions/{name}").json()["input"]["detail"]["object"]["key"] == "runs/same.png"


def test_GIVEN_a_dead_letter_WHEN_redriven_twice_THEN_one_rerun_and_then_not_found(http):
    put(http, "redrive/broken.jpg", b"\xff\xd8\xff\xe0 not a picture", "image/jpeg")
    letter = wait_for(lambda: settled(http, "redrive/broken.jpg"))["dead_letter"]
    listed = http.get("/v1/dead-letters").json()
    assert letter["message_id"] in [m["message_id"] for m in listed["workflow"]] and "indexer" in listed

    first = http.post("/v1/dead-letters/redrive", json={"message_ids": [letter["message_id"]]}).json()
    second = http.post("/v1/dead-letters/redrive", json={"message_ids": [letter["message_id"]]}).json()

    assert first == {"redriven": [letter["message_id"]], "not_found": [], "not_redrivable": []}
    assert second == {"redriven": [], "not_found": [letter["message_id"]], "not_redrivable": []}
    def rerun_ended():
        execution = http.get(f"/v1/executions/redrive-{letter['message_id']}").json()
        return execution if execution.get("status") not in (None, "RUNNING") else None

    rerun = wait_for(rerun_ended)
    assert rerun["status"] == "FAILED"  # still not a picture: a new dead letter says so
    runs = http.get("/v1/executions", params={"key": "redrive/broken.jpg"}).json()["executions"]
    assert sorted(e["name"].startswith("redrive-") for e in runs) == [False, True]


@pytest.mark.parametrize("method, path, status, error", [
    ("GET", "/api/images", 404, "not_found"), ("POST", "/v1/images", 405, "method_not_allowed"),
    ("GET", "/v1/images?limit=9999", 400, "invalid_parameter"), ("GET", "/v1/images?cursor=zz", 400, "invalid_cursor"),
    ("GET", "/v1/executions/nope", 404, "not_found"), ("POST", "/v1/uploads", 400, "invalid_body"),
])
def test_GIVEN_a_bad_request_WHEN_sent_THEN_the_one_error_shape_with_the_documented_status(
        http, method, path, status, error):
    assert_error(http.request(method, path), status, error)
