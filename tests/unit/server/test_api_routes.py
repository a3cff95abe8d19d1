"""/api/*: the JSON the dashboard and scripts read, straight from the pipeline's ports."""

from __future__ import annotations


def test_GIVEN_tags_and_filters_WHEN_searching_THEN_the_index_gets_them_all(client, pipeline):
    client.get("/api/images", params={"tag": ["Dog", "Cat"], "min_confidence": 80, "limit": 5, "offset": 2,
                                      "since": "2026-11-01T00:00:00Z", "until": "2026-12-01"})

    assert pipeline.index.search_calls == [dict(tags=["Dog", "Cat"], min_confidence=80.0, limit=5, offset=2,
                                                since="2026-11-01T00:00:00Z", until="2026-12-01")]


def test_GIVEN_indexed_documents_WHEN_searching_a_tag_THEN_total_and_matching_images_are_answered(
        client, pipeline, document_factory):
    pipeline.index.documents = {"a" * 40: document_factory("a" * 40, tags=["Dog"]),
                                "b" * 40: document_factory("b" * 40, tags=["Cat"])}

    body = client.get("/api/images", params={"tag": "Dog"}).json()

    assert body["total"] == 1 and [d["id"] for d in body["images"]] == ["a" * 40]


def test_GIVEN_a_since_that_is_not_a_date_WHEN_searching_THEN_422(client):
    assert client.get("/api/images", params={"since": "yesterday"}).status_code == 422


def test_GIVEN_a_negative_limit_WHEN_searching_THEN_422(client):
    assert client.get("/api/images", params={"limit": -1}).status_code == 422


def test_GIVEN_an_indexed_document_WHEN_getting_it_THEN_the_document_is_answered(client, pipeline, document_factory):
    pipeline.index.documents["a" * 40] = document_factory()

    assert client.get(f"/api/images/{'a' * 40}").json()["key"] == "raw-image/dog.jpg"


def test_GIVEN_an_unknown_id_WHEN_getting_it_THEN_404(client):
    assert client.get("/api/images/nope").status_code == 404


def test_GIVEN_a_stored_image_WHEN_getting_its_content_THEN_the_bytes_come_with_their_type(
        client, pipeline, document_factory):
    pipeline.index.documents["a" * 40] = document_factory()
    pipeline.objects["raw-image/dog.jpg"] = (b"\x89PNG...", "image/png")

    response = client.get(f"/api/images/{'a' * 40}/content")

    assert (response.content, response.headers["content-type"]) == (b"\x89PNG...", "image/png")


def test_GIVEN_an_indexed_image_whose_object_is_gone_WHEN_getting_its_content_THEN_404(
        client, pipeline, document_factory):
    pipeline.index.documents["a" * 40] = document_factory()

    assert client.get(f"/api/images/{'a' * 40}/content").status_code == 404


def test_GIVEN_documents_WHEN_asking_tag_stats_THEN_tags_are_counted(client, pipeline, document_factory):
    pipeline.index.documents = {"a": document_factory("a", tags=["Dog"]), "b": document_factory("b", tags=["Dog"])}

    assert client.get("/api/stats/tags", params={"top": 5}).json() == [{"tag": "Dog", "count": 2}]


def test_GIVEN_an_unknown_interval_WHEN_asking_image_stats_THEN_422(client):
    assert client.get("/api/stats/images", params={"interval": "decade"}).status_code == 422


def _execution(name, status):
    return {"arn": f"arn:aws:states:us-east-1:000000000000:execution:image-tagging:{name}", "name": name,
            "status": status, "start_date": "2026-11-25T00:00:00Z", "stop_date": None, "error": None,
            "cause": None, "input": {}, "output": None, "failed_state": None,
            "history": [{"id": 1, "type": "ExecutionStarted", "timestamp": "2026-11-25T00:00:00Z"}]}


def test_GIVEN_executions_WHEN_listing_failed_ones_THEN_only_failed_are_answered(client, pipeline):
    pipeline.executions = {"a": _execution("a", "SUCCEEDED"), "b": _execution("b", "FAILED")}

    assert [e["name"] for e in client.get("/api/executions", params={"status": "FAILED"}).json()] == ["b"]


def test_GIVEN_an_unknown_status_WHEN_listing_executions_THEN_422(client):
    assert client.get("/api/executions", params={"status": "EXPLODED"}).status_code == 422


def test_GIVEN_an_execution_WHEN_getting_it_by_url_encoded_arn_THEN_its_history_is_answered(client, pipeline):
    pipeline.executions = {"a": _execution("a", "FAILED")}
    arn = pipeline.executions["a"]["arn"].replace(":", "%3A")

    body = client.get(f"/api/executions/{arn}").json()

    assert body["name"] == "a" and body["history"][0]["type"] == "ExecutionStarted"


def test_GIVEN_no_such_execution_WHEN_getting_it_THEN_404(client):
    assert client.get("/api/executions/nope").status_code == 404


def test_GIVEN_dead_letters_WHEN_listing_THEN_both_queues_are_answered_with_reasons(client, pipeline):
    pipeline.letters["workflow"] = [{"message_id": "m1", "queue": "image-tagging-dlq", "sent_at": "t",
                                     "reason": {"error": "Rekognition.InvalidImageFormatException", "cause": "bad"},
                                     "body": {"error": "Rekognition.InvalidImageFormatException"}}]

    body = client.get("/api/dlq").json()

    assert body["indexer"] == [] and body["workflow"][0]["reason"]["error"] == "Rekognition.InvalidImageFormatException"


def test_GIVEN_message_ids_WHEN_redriving_THEN_only_those_are_redriven(client, pipeline):
    response = client.post("/api/dlq/redrive", json={"message_ids": ["m1"]})

    assert pipeline.redrive_calls == [["m1"]] and response.json() == {"redriven": [], "not_found": ["m1"]}


def test_GIVEN_no_body_WHEN_redriving_THEN_everything_is_redriven(client, pipeline):
    client.post("/api/dlq/redrive")

    assert pipeline.redrive_calls == [None]


def test_GIVEN_an_unknown_field_WHEN_redriving_THEN_422_and_nothing_redriven(client, pipeline):
    response = client.post("/api/dlq/redrive", json={"ids": ["m1"]})

    assert response.status_code == 422 and pipeline.redrive_calls == []


def test_GIVEN_a_pipeline_WHEN_asking_the_summary_THEN_counts_are_answered(client, pipeline, document_factory):
    pipeline.index.documents["a"] = document_factory("a")

    assert client.get("/api/summary").json()["images_indexed"] == 1


def test_GIVEN_the_app_WHEN_reading_openapi_THEN_every_route_is_documented(client):
    paths = client.get("/openapi.json").json()["paths"]

    assert {"/v1/{bucket}/{key}", "/api/images", "/api/images/{image_id}", "/api/images/{image_id}/content",
            "/api/stats/tags", "/api/stats/images", "/api/executions", "/api/executions/{execution_id}",
            "/api/dlq", "/api/dlq/redrive", "/api/summary", "/api/uploads/{bucket}/{key}", "/healthz"} <= set(paths)


def test_GIVEN_the_app_WHEN_reading_openapi_THEN_the_upload_route_names_the_served_bucket(client):
    put = client.get("/openapi.json").json()["paths"]["/v1/{bucket}/{key}"]["put"]

    [bucket] = [p for p in put["parameters"] if p["name"] == "bucket"]
    assert bucket["schema"]["enum"] == ["image-vaults"]


def test_GIVEN_a_since_that_is_not_a_date_WHEN_searching_THEN_the_422_names_the_parameter_like_fastapi_does(client):
    detail = client.get("/api/images", params={"since": "null"}).json()["detail"]

    assert detail[0]["loc"] == ["query", "since"]


def test_GIVEN_an_indexed_upload_WHEN_asking_its_outcome_with_an_encoded_slash_THEN_200_with_the_document(
        client, pipeline, document_factory):
    document = document_factory()
    pipeline.outcomes[("image-vaults", "raw-image/dog.jpg")] = {
        "bucket": "image-vaults", "key": "raw-image/dog.jpg", "sequencer": "01", "id": document["id"],
        "status": "indexed", "document": document}

    response = client.get("/api/uploads/image-vaults/raw-image%2Fdog.jpg")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["document"]["tags"]) == ("indexed", ["Dog", "Animal"])
    assert pipeline.outcome_calls == [("image-vaults", "raw-image/dog.jpg", None)]


def test_GIVEN_a_dead_lettered_upload_WHEN_asking_its_outcome_THEN_the_reason_is_answered(client, pipeline):
    letter = {"message_id": "m1", "queue": "image-tagging-dlq", "sent_at": "2026-11-25T00:00:00.000Z",
              "reason": {"error": "Rekognition.InvalidImageFormatException", "cause": "not an image",
                         "execution_id": "arn:x", "failed_at": None}, "body": {}}
    pipeline.outcomes[("image-vaults", "bad.jpg")] = {"bucket": "image-vaults", "key": "bad.jpg", "sequencer": "01",
                                                       "id": "b" * 40, "status": "dead_lettered", "dead_letter": letter}

    body = client.get("/api/uploads/image-vaults/bad.jpg").json()

    assert (body["status"], body["dead_letter"]["reason"]["error"], body["document"]) == (
        "dead_lettered", "Rekognition.InvalidImageFormatException", None)


def test_GIVEN_no_such_upload_WHEN_asking_its_outcome_THEN_404(client):
    response = client.get("/api/uploads/image-vaults/never.jpg")

    assert response.status_code == 404 and "never.jpg" in response.json()["detail"]


def test_GIVEN_a_key_no_upload_could_have_WHEN_asking_its_outcome_THEN_400_like_the_upload_api(client, pipeline):
    response = client.get(f"/api/uploads/image-vaults/{'k' * 1025}")

    assert response.status_code == 400 and pipeline.outcome_calls == []


def test_GIVEN_the_app_WHEN_reading_openapi_THEN_the_upload_outcome_route_says_its_statuses(client):
    operation = client.get("/openapi.json").json()["paths"]["/api/uploads/{bucket}/{key}"]["get"]
    schema = client.get("/openapi.json").json()["components"]["schemas"]["UploadOutcome"]

    assert {"200", "404"} <= set(operation["responses"])
    assert schema["properties"]["status"]["enum"] == ["indexed", "dead_lettered", "running", "superseded"]
