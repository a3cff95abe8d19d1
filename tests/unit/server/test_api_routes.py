"""/v1: every route of the OpenAPI document on the local server, over the fakes of the read ports
(tests/fakes) and the real URL signer; statuses and bodies as the document declares them."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from autotagger.api import openapi_document
from autotagger.api.service import IMAGE_URL_TTL_S, MAX_UPLOAD_BYTES, UPLOAD_URL_TTL_S
from autotagger.ports import DeadLetter


def assert_error(response, status, error):
    assert (response.status_code, list(response.json()), response.json()["error"]) == (
        status, ["error", "message"], error), response.text


def relative(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


# -- GET /v1/images ---------------------------------------------------------------------------------

def test_GIVEN_tags_and_filters_WHEN_searching_THEN_the_index_gets_them_all(client, pipeline):
    client.get("/v1/images", params={"tag": ["Dog", "Cat"], "min_confidence": 80, "limit": 5,
                                     "since": "2026-11-01T00:00:00Z", "until": "2026-12-01"})
    client.get("/v1/images", params={"tag": "Dog", "text": "harbour", "safe": "true"})

    assert pipeline.index.search_calls == [{"tags": ["Dog", "Cat"], "min_confidence": 80.0, "limit": 5, "cursor": None,
                                            "offset": 0, "since": "2026-11-01T00:00:00Z", "until": "2026-12-01",
                                            "text": None, "safe": False},
                                           {"tags": ["Dog"], "min_confidence": 0.0, "limit": 50, "cursor": None,
                                            "offset": 0, "since": None, "until": None, "text": "harbour", "safe": True}]


def test_GIVEN_a_document_tagged_Dog_WHEN_searching_the_lowercase_tag_THEN_it_is_found_as_written(
        client, pipeline, document_factory):
    pipeline.index.documents = {"a" * 40: document_factory("a" * 40, tags=["Dog"]),
                                "b" * 40: document_factory("b" * 40, tags=["Cat"])}

    body = client.get("/v1/images", params={"tag": "dog"}).json()

    assert (body["total"], [d["id"] for d in body["images"]], body["images"][0]["tags"]) == (1, ["a" * 40], ["Dog"])
    assert body["next_cursor"] is None


def test_GIVEN_more_images_than_a_page_WHEN_walking_next_cursor_THEN_every_image_comes_once_newest_first(
        client, pipeline, document_factory):
    for n in range(7):
        document = document_factory(f"{n:040x}", key=f"raw-image/{n}.jpg")
        pipeline.index.documents[document["id"]] = {**document, "event_time": f"2026-11-2{n}T00:00:00Z"}
    seen, params = [], {"tag": "DOG", "limit": 3}
    while True:
        page = client.get("/v1/images", params=params).json()
        seen += [image["key"] for image in page["images"]]
        if page["next_cursor"] is None:
            break
        params = {**params, "cursor": page["next_cursor"]}

    assert seen == [f"raw-image/{n}.jpg" for n in reversed(range(7))]


@pytest.mark.parametrize("params, error", [
    ({"since": "yesterday"}, "invalid_parameter"), ({"limit": -1}, "invalid_parameter"),
    ({"limit": 501}, "invalid_parameter"), ({"cursor": "bm90IGEgY3Vyc29y"}, "invalid_cursor"),
])
def test_GIVEN_an_invalid_search_parameter_WHEN_searching_THEN_400_in_the_error_shape(client, params, error):
    assert_error(client.get("/v1/images", params=params), 400, error)


# -- GET /v1/images/{id} and its signed URL -------------------------------------------------------------

def test_GIVEN_an_indexed_image_WHEN_getting_it_THEN_its_signed_url_serves_the_bytes_until_it_expires(
        client, pipeline, document_factory):
    pipeline.index.documents["a" * 40] = document_factory()
    pipeline.objects["raw-image/dog.jpg"] = (b"\x89PNG...", "image/png")

    body = client.get(f"/v1/images/{'a' * 40}").json()
    fetched = client.get(relative(body["image_url"]))
    pipeline.clock.now += IMAGE_URL_TTL_S
    expired = client.get(relative(body["image_url"]))

    assert body["key"] == "raw-image/dog.jpg" and body["image_url"].startswith("http://testserver/v1/_local/")
    assert (fetched.status_code, fetched.content, fetched.headers["content-type"]) == (200, b"\x89PNG...", "image/png")
    assert_error(expired, 403, "forbidden")
    assert "expired" in expired.json()["message"]


def test_GIVEN_an_image_url_WHEN_it_is_changed_to_another_key_THEN_403(client, pipeline, document_factory):
    pipeline.index.documents["a" * 40] = document_factory()
    pipeline.objects["raw-image/dog.jpg"] = (b"dog", "image/jpeg")
    pipeline.objects["raw-image/cat.jpg"] = (b"cat", "image/jpeg")

    url = relative(client.get(f"/v1/images/{'a' * 40}").json()["image_url"])

    assert_error(client.get(url.replace("dog.jpg", "cat.jpg")), 403, "forbidden")
    assert_error(client.get(url.split("?")[0]), 403, "forbidden")


def test_GIVEN_an_unknown_id_WHEN_getting_it_THEN_404_in_the_error_shape(client):
    assert_error(client.get("/v1/images/nope"), 404, "not_found")


# -- stats -----------------------------------------------------------------------------------------------

def test_GIVEN_documents_WHEN_asking_tag_and_image_stats_THEN_they_are_counted(client, pipeline, document_factory):
    pipeline.index.documents = {"a": document_factory("a", tags=["Dog"]), "b": document_factory("b", tags=["Dog"])}

    assert client.get("/v1/stats/tags", params={"top": 5}).json() == [{"tag": "Dog", "count": 2}]
    assert client.get("/v1/stats/images", params={"interval": "day"}).json() == [
        {"time": "2026-11-25T00:00:00Z", "count": 2}]


def test_GIVEN_an_unknown_interval_WHEN_asking_image_stats_THEN_400(client):
    assert_error(client.get("/v1/stats/images", params={"interval": "decade"}), 400, "invalid_parameter")


# -- executions ------------------------------------------------------------------------------------------

def _execution(name, status, key):
    return {"arn": f"arn:aws:states:us-east-1:000000000000:execution:image-tagging:{name}", "name": name,
            "status": status, "start_date": "2026-11-25T00:00:00Z", "stop_date": None, "error": None,
            "cause": None, "key": key}


def test_GIVEN_executions_WHEN_listing_by_key_with_a_cursor_THEN_pages_hold_only_that_keys_runs(client, pipeline):
    pipeline.executions.executions = [_execution(f"e{n}", "FAILED" if n % 2 else "SUCCEEDED", f"k{n % 2}")
                                      for n in range(5)]

    first = client.get("/v1/executions", params={"key": "k0", "limit": 2}).json()
    second = client.get("/v1/executions", params={"key": "k0", "limit": 2, "cursor": first["next_cursor"]}).json()
    failed = client.get("/v1/executions", params={"status": "FAILED"}).json()

    assert [e["name"] for e in first["executions"]] == ["e0", "e2"] and first["next_cursor"]
    assert ([e["name"] for e in second["executions"]], second["next_cursor"]) == (["e4"], None)
    assert [e["name"] for e in failed["executions"]] == ["e1", "e3"]


@pytest.mark.parametrize("params, error", [({"status": "EXPLODED"}, "invalid_parameter"),
                                           ({"limit": 0}, "invalid_parameter"), ({"cursor": "x"}, "invalid_cursor")])
def test_GIVEN_an_invalid_executions_parameter_WHEN_listing_THEN_400(client, params, error):
    assert_error(client.get("/v1/executions", params=params), 400, error)


def test_GIVEN_an_execution_WHEN_describing_it_by_name_THEN_its_detail_is_answered_and_unknown_is_404(
        client, pipeline):
    pipeline.executions.executions = [_execution("a", "FAILED", "k")]

    body = client.get("/v1/executions/a").json()

    assert (body["name"], body["status"], body["history"]) == ("a", "FAILED", [])
    assert_error(client.get("/v1/executions/nope"), 404, "not_found")


# -- dead letters ----------------------------------------------------------------------------------------

def _letter(message_id, queue, **body):
    return DeadLetter(message_id=message_id, body=json.dumps(body), sent_at="2026-11-25T00:00:00.000Z", queue=queue)


def test_GIVEN_dead_letters_WHEN_listing_THEN_each_queue_answers_with_the_reason(client, pipeline):
    pipeline.workflow_dlq.letters["m1"] = _letter("m1", "workflow", event={"detail": {}},
                                                   error="Rekognition.InvalidImageFormatException", cause="bad")

    body = client.get("/v1/dead-letters").json()

    assert body["indexer"] == [] and body["workflow"][0]["reason"]["error"] == "Rekognition.InvalidImageFormatException"


def test_GIVEN_a_dead_letter_WHEN_redriven_twice_THEN_it_is_resubmitted_once(client, pipeline):
    pipeline.workflow_dlq.letters["m1"] = _letter("m1", "workflow", event={"detail": {}})

    first = client.post("/v1/dead-letters/redrive", json={"message_ids": ["m1"]}).json()
    second = client.post("/v1/dead-letters/redrive", json={"message_ids": ["m1"]}).json()

    assert first == {"redriven": ["m1"], "not_found": [], "not_redrivable": []}
    assert second == {"redriven": [], "not_found": ["m1"], "not_redrivable": []}
    assert [letter.message_id for letter in pipeline.resubmitted] == ["m1"]


def test_GIVEN_no_body_WHEN_redriving_THEN_every_queue_is_redriven(client, pipeline):
    pipeline.workflow_dlq.letters["m1"] = _letter("m1", "workflow", event={})
    pipeline.indexer_dlq.letters["m2"] = _letter("m2", "indexer", records=[{}])

    assert client.post("/v1/dead-letters/redrive").json()["redriven"] == ["m1", "m2"]


@pytest.mark.parametrize("body", [b'{"ids": ["m1"]}', b"{not json", b'["m1"]'])
def test_GIVEN_a_malformed_redrive_body_WHEN_posting_THEN_400_and_nothing_redriven(client, pipeline, body):
    pipeline.workflow_dlq.letters["m1"] = _letter("m1", "workflow", event={})

    assert_error(client.post("/v1/dead-letters/redrive", content=body), 400, "invalid_body")
    assert pipeline.resubmitted == []


def test_GIVEN_a_json_body_over_1_MiB_WHEN_posting_THEN_400_invalid_body_and_nothing_redriven(client, pipeline):
    pipeline.workflow_dlq.letters["m1"] = _letter("m1", "workflow", event={})
    padding = "x" * (1024 * 1024)  # well-formed requests, only too long

    assert_error(client.post("/v1/dead-letters/redrive", json={"message_ids": ["m1", padding]}), 400, "invalid_body")
    assert_error(client.post("/v1/uploads", json={"key": padding, "content_type": "image/png", "size": 1}),
                 400, "invalid_body")
    assert pipeline.resubmitted == []


# -- POST /v1/uploads and the upload URL -----------------------------------------------------------------

def _ticket(client, key="big/photo.jpg", content_type="image/jpeg", size=12 * 1024 * 1024):
    response = client.post("/v1/uploads", json={"key": key, "content_type": content_type, "size": size})
    assert response.status_code == 200, response.text
    return response.json()


def test_GIVEN_a_12_MB_image_WHEN_uploaded_through_its_ticket_THEN_it_is_stored_like_a_direct_put(client, pipeline):
    body = b"\xff\xd8" + bytes(12 * 1024 * 1024 - 2)
    ticket = _ticket(client)

    response = client.request(ticket["method"], relative(ticket["url"]), content=body, headers=ticket["headers"])

    assert response.status_code == 200 and response.headers["etag"]
    assert pipeline.objects["big/photo.jpg"] == (body, "image/jpeg")
    assert ticket["key"] == "big/photo.jpg" and ticket["url"].startswith("http://testserver/v1/_local/image-vaults/")
    assert ticket["headers"] == {"Content-Type": "image/jpeg", "Content-Length": str(len(body))}


@pytest.mark.parametrize("headers, body", [
    ({"Content-Type": "image/png"}, b"x" * 100),  # another type
    ({"Content-Type": "image/jpeg"}, b"x" * 99),  # shorter
    ({"Content-Type": "image/jpeg"}, b"x" * 101),  # longer
])
def test_GIVEN_a_ticket_WHEN_the_body_differs_from_what_was_signed_THEN_403_and_nothing_stored(
        client, pipeline, headers, body):
    ticket = _ticket(client, size=100)

    response = client.put(relative(ticket["url"]), content=body, headers=headers)

    assert_error(response, 403, "forbidden")
    assert pipeline.objects == {}


def test_GIVEN_an_expired_ticket_WHEN_putting_THEN_403_and_nothing_stored(client, pipeline):
    ticket = _ticket(client, size=3)
    pipeline.clock.now += UPLOAD_URL_TTL_S

    assert_error(client.put(relative(ticket["url"]), content=b"abc", headers=ticket["headers"]), 403, "forbidden")
    assert pipeline.objects == {}


@pytest.mark.parametrize("request_body, status, error", [
    ({"key": "a.jpg", "content_type": "image/jpeg", "size": MAX_UPLOAD_BYTES + 1}, 413, "too_large"),
    ({"key": "a.tiff", "content_type": "image/tiff", "size": 10}, 415, "unsupported_media_type"),
    ({"key": "", "content_type": "image/jpeg", "size": 10}, 400, "invalid_parameter"),
])
def test_GIVEN_an_upload_request_out_of_bounds_WHEN_posted_THEN_refused_with_its_status(
        client, request_body, status, error):
    assert_error(client.post("/v1/uploads", json=request_body), status, error)


# -- summary, health, upload outcome ---------------------------------------------------------------------

def test_GIVEN_a_pipeline_WHEN_asking_the_summary_and_health_THEN_they_are_answered(client, pipeline, document_factory):
    pipeline.index.documents["a"] = document_factory("a")
    pipeline.index.documents["b"] = {**document_factory("b"), "moderation": {"labels": [], "max_confidence": 90.0},
                                     "analysis_errors": [{"analysis": "text", "error": "E", "cause": "c"}]}

    summary = client.get("/v1/summary").json()
    assert (summary["images_indexed"], summary["flagged"], summary["analysis_errors"]) == (2, 1, 1)
    assert client.get("/healthz").json() == {"status": "ok"}


def test_GIVEN_an_indexed_upload_WHEN_asking_its_outcome_with_an_encoded_slash_THEN_200_with_the_document(
        client, pipeline, document_factory):
    document = document_factory()
    pipeline.outcomes[("image-vaults", "raw-image/dog.jpg")] = {
        "bucket": "image-vaults", "key": "raw-image/dog.jpg", "sequencer": "01", "id": document["id"],
        "status": "indexed", "document": document}

    response = client.get("/v1/uploads/image-vaults/raw-image%2Fdog.jpg")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["document"]["tags"]) == ("indexed", ["Dog", "Animal"])
    assert pipeline.outcome_calls == [("image-vaults", "raw-image/dog.jpg", None)]


def test_GIVEN_a_dead_lettered_upload_WHEN_asking_its_outcome_THEN_the_reason_is_answered(client, pipeline):
    letter = {"message_id": "m1", "queue": "workflow", "sent_at": "2026-11-25T00:00:00.000Z",
              "reason": {"error": "Rekognition.InvalidImageFormatException", "cause": "not an image",
                         "execution_id": "arn:x", "failed_at": None}, "body": {}}
    pipeline.outcomes[("image-vaults", "bad.jpg")] = {"bucket": "image-vaults", "key": "bad.jpg", "sequencer": "01",
                                                       "id": "b" * 40, "status": "dead_lettered", "dead_letter": letter}

    body = client.get("/v1/uploads/image-vaults/bad.jpg").json()

    assert (body["status"], body["dead_letter"]["reason"]["error"]) == (
        "dead_lettered", "Rekognition.InvalidImageFormatException")
    assert "document" not in body


def test_GIVEN_no_such_upload_WHEN_asking_its_outcome_THEN_404(client):
    response = client.get("/v1/uploads/image-vaults/never.jpg")

    assert_error(response, 404, "not_found")
    assert "never.jpg" in response.json()["message"]


def test_GIVEN_a_key_no_upload_could_have_WHEN_asking_its_outcome_THEN_400_like_the_upload_api(client, pipeline):
    assert_error(client.get(f"/v1/uploads/image-vaults/{'k' * 1025}"), 400, "invalid_parameter")
    assert pipeline.outcome_calls == []


# -- the document and the error shape everywhere ---------------------------------------------------------

def test_GIVEN_the_app_WHEN_reading_openapi_THEN_it_is_the_repository_document_with_the_served_bucket(client):
    served = client.get("/openapi.json").json()
    document = openapi_document()

    assert served["paths"].keys() == document["paths"].keys() and served["info"] == document["info"]
    for path in ("/v1/{bucket}/{object}", "/v1/uploads/{bucket}/{object}"):
        parameters = {p["name"]: p["schema"] for p in served["paths"][path]["parameters"]}
        assert parameters["bucket"]["enum"] == ["image-vaults"] and parameters["object"]["maxLength"] == 1024


def test_GIVEN_every_operation_of_the_document_WHEN_called_THEN_the_server_has_a_route_for_it(client):
    concrete = {"{bucket}": "image-vaults", "{object}": "a.jpg", "{id}": "nope", "{name}": "nope"}
    missing = []
    for path, item in openapi_document()["paths"].items():
        for method in {"get", "put", "post", "delete"} & set(item):
            url = path
            for template, value in concrete.items():
                url = url.replace(template, value)
            response = client.request(method.upper(), url)
            if response.status_code == 405 or "no route" in response.text:
                missing.append(f"{method.upper()} {path}")

    assert missing == []


@pytest.mark.parametrize("method, path, status, error", [
    ("GET", "/api/images", 404, "not_found"),  # the old paths are gone
    ("GET", "/v1/nothing-here", 404, "not_found"),
    ("POST", "/v1/images", 405, "method_not_allowed"),
    ("DELETE", "/v1/executions", 405, "method_not_allowed"),
])
def test_GIVEN_a_route_or_method_that_does_not_exist_WHEN_called_THEN_the_one_error_shape(
        client, method, path, status, error):
    assert_error(client.request(method, path), status, error)
