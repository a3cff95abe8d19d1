"""PUT/DELETE /v1/{bucket}/{key}: what is stored, and what is refused without storing anything."""

from __future__ import annotations

from autotagger.contracts import MAX_UPLOAD_BYTES

JPEG = {"Content-Type": "image/jpeg"}


def test_GIVEN_an_encoded_slash_WHEN_putting_THEN_the_key_has_a_slash_and_the_answer_is_an_empty_200(client, pipeline):
    response = client.put("/v1/image-vaults/raw-image%2Fphoto.jpg", content=b"\xff\xd8jpeg", headers=JPEG)

    assert (response.status_code, response.content) == (200, b"")
    assert pipeline.objects == {"raw-image/photo.jpg": (b"\xff\xd8jpeg", "image/jpeg")}


def test_GIVEN_a_double_encoded_slash_WHEN_putting_THEN_the_key_keeps_a_literal_percent_2F(client, pipeline):
    client.put("/v1/image-vaults/raw-image%252Fphoto.jpg", content=b"x", headers=JPEG)

    assert list(pipeline.objects) == ["raw-image%2Fphoto.jpg"]


def test_GIVEN_a_plus_in_the_key_WHEN_putting_THEN_it_stays_a_plus(client, pipeline):
    client.put("/v1/image-vaults/a+b%20c.jpg", content=b"x", headers=JPEG)

    assert list(pipeline.objects) == ["a+b c.jpg"]


def test_GIVEN_utf8_percent_escapes_WHEN_putting_THEN_the_key_is_the_decoded_text(client, pipeline):
    client.put("/v1/image-vaults/caf%C3%A9.png", content=b"x", headers={"Content-Type": "image/png"})

    assert list(pipeline.objects) == ["café.png"]


def test_GIVEN_escapes_that_are_not_utf8_WHEN_putting_THEN_400_and_nothing_stored(client, pipeline):
    response = client.put("/v1/image-vaults/bad%FF.jpg", content=b"x", headers=JPEG)

    assert response.status_code == 400 and pipeline.objects == {}


def test_GIVEN_another_bucket_WHEN_putting_THEN_403_and_nothing_stored(client, pipeline):
    response = client.put("/v1/other-bucket/photo.jpg", content=b"x", headers=JPEG)

    assert response.status_code == 403 and pipeline.objects == {}


def test_GIVEN_a_text_body_WHEN_putting_THEN_415_and_nothing_stored(client, pipeline):
    response = client.put("/v1/image-vaults/photo.jpg", content=b"x", headers={"Content-Type": "text/plain"})

    assert response.status_code == 415 and pipeline.objects == {}


def test_GIVEN_a_form_encoded_body_as_curl_sends_by_default_WHEN_putting_THEN_415(client, pipeline):
    response = client.put("/v1/image-vaults/photo.jpg", content=b"x",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})

    assert response.status_code == 415


def test_GIVEN_a_media_type_with_parameters_WHEN_putting_THEN_it_is_accepted(client, pipeline):
    response = client.put("/v1/image-vaults/photo.bin", content=b"x",
                          headers={"Content-Type": "Application/Octet-Stream; charset=binary"})

    assert response.status_code == 200 and pipeline.objects["photo.bin"][1] == "application/octet-stream"


def test_GIVEN_a_declared_length_over_10_MiB_WHEN_putting_THEN_413_and_nothing_stored(client, pipeline):
    response = client.put("/v1/image-vaults/big.jpg", content=b"x" * (MAX_UPLOAD_BYTES + 1), headers=JPEG)

    assert response.status_code == 413 and pipeline.objects == {}


def test_GIVEN_a_chunked_body_growing_over_10_MiB_WHEN_putting_THEN_413_and_nothing_stored(client, pipeline):
    def chunks():
        for _ in range(11):
            yield b"x" * (1024 * 1024)

    response = client.put("/v1/image-vaults/big.jpg", content=chunks(), headers=JPEG)

    assert response.status_code == 413 and pipeline.objects == {}


def test_GIVEN_exactly_10_MiB_WHEN_putting_THEN_it_is_stored(client, pipeline):
    response = client.put("/v1/image-vaults/edge.jpg", content=b"x" * MAX_UPLOAD_BYTES, headers=JPEG)

    assert response.status_code == 200 and len(pipeline.objects["edge.jpg"][0]) == MAX_UPLOAD_BYTES


def test_GIVEN_an_empty_body_WHEN_putting_THEN_400_and_nothing_stored(client, pipeline):
    response = client.put("/v1/image-vaults/empty.jpg", content=b"", headers=JPEG)

    assert response.status_code == 400 and pipeline.objects == {}


def test_GIVEN_a_key_over_1024_utf8_bytes_WHEN_putting_THEN_400_and_nothing_stored(client, pipeline):
    key = "é" * 513  # 1026 bytes of UTF-8, only 513 characters
    response = client.put(f"/v1/image-vaults/{key}", content=b"x", headers=JPEG)

    assert response.status_code == 400 and pipeline.objects == {}


def test_GIVEN_a_key_with_a_control_character_WHEN_putting_THEN_400(client, pipeline):
    response = client.put("/v1/image-vaults/a%0Ab.jpg", content=b"x", headers=JPEG)

    assert response.status_code == 400 and pipeline.objects == {}


def test_GIVEN_a_refused_upload_WHEN_answering_THEN_the_body_is_the_one_error_shape(client):
    response = client.put("/v1/other/photo.jpg", content=b"x", headers=JPEG)

    assert list(response.json()) == ["error", "message"] and "other" in response.json()["message"]
    assert response.json()["error"] == "forbidden"


def test_GIVEN_a_stored_object_WHEN_deleting_THEN_204_and_the_pipeline_deletes_the_key(client, pipeline):
    client.put("/v1/image-vaults/raw-image%2Fphoto.jpg", content=b"x", headers=JPEG)

    response = client.delete("/v1/image-vaults/raw-image%2Fphoto.jpg")

    assert response.status_code == 204 and pipeline.deleted == ["raw-image/photo.jpg"]


def test_GIVEN_another_bucket_WHEN_deleting_THEN_403_and_nothing_deleted(client, pipeline):
    response = client.delete("/v1/other/photo.jpg")

    assert response.status_code == 403 and pipeline.deleted == []


def test_GIVEN_the_object_path_WHEN_asking_options_THEN_allow_lists_put_and_delete(client):
    response = client.options("/v1/image-vaults/photo.jpg")

    assert {m.strip() for m in response.headers["allow"].split(",")} >= {"PUT", "DELETE"}
