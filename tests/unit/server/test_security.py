"""The API key guards every request once set; every answer carries the hardening headers."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from autotagger.server import create_app

KEY = "k" * 32


@pytest.fixture
def keyed_client(pipeline):
    with TestClient(create_app(pipeline, api_key=KEY)) as test_client:
        yield test_client


def test_GIVEN_an_api_key_WHEN_a_request_has_no_key_THEN_401(keyed_client):
    assert keyed_client.get("/healthz").status_code == 401


def test_GIVEN_an_api_key_WHEN_a_request_has_a_wrong_key_THEN_401_and_nothing_stored(keyed_client, pipeline):
    response = keyed_client.put("/v1/image-vaults/a.jpg", content=b"x",
                                headers={"Content-Type": "image/jpeg", "x-api-key": "k" * 31 + "x"})

    assert response.status_code == 401 and pipeline.objects == {}


def test_GIVEN_an_api_key_WHEN_a_request_has_the_key_THEN_it_is_served(keyed_client):
    assert keyed_client.get("/healthz", headers={"x-api-key": KEY}).status_code == 200


def test_GIVEN_no_api_key_configured_WHEN_a_request_has_none_THEN_it_is_served(client):
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("header, value", [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
])
def test_GIVEN_any_request_WHEN_answered_THEN_the_hardening_header_is_set(client, header, value):
    assert client.get("/healthz").headers[header] == value


def test_GIVEN_any_request_WHEN_answered_THEN_the_csp_allows_only_this_origin_scripts(client):
    csp = client.get("/healthz").headers["content-security-policy"]

    assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp


def test_GIVEN_a_refused_key_WHEN_answered_THEN_the_hardening_headers_are_set_too(keyed_client):
    response = keyed_client.get("/healthz")

    assert response.status_code == 401
    assert response.headers["x-content-type-options"] == "nosniff" and response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_GIVEN_an_api_key_WHEN_a_request_has_none_THEN_the_401_is_the_one_error_shape(keyed_client):
    response = keyed_client.get("/v1/images")

    assert (response.status_code, response.json()["error"]) == (401, "unauthorized")
    assert list(response.json()) == ["error", "message"]


def test_GIVEN_an_api_key_WHEN_an_upload_ticket_is_used_without_it_THEN_the_signature_is_enough(keyed_client, pipeline):
    ticket = keyed_client.post("/v1/uploads", json={"key": "a.png", "content_type": "image/png", "size": 3},
                               headers={"x-api-key": KEY}).json()

    response = keyed_client.put(ticket["url"], content=b"png", headers=ticket["headers"])

    assert response.status_code == 200 and pipeline.objects["a.png"] == (b"png", "image/png")
