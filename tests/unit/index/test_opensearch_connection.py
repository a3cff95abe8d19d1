"""How the OpenSearch adapter connects: SigV4 for Amazon OpenSearch, plain HTTP elsewhere (no requests sent)."""

from __future__ import annotations

import pytest

pytest.importorskip("opensearchpy")

from opensearchpy import RequestsHttpConnection
from requests_aws4auth import AWS4Auth

from autotagger.index.opensearch import OpenSearchIndex, load_template


@pytest.fixture(autouse=True)
def static_credentials(monkeypatch):
    for name in ("AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    monkeypatch.delenv("AWS_REGION", raising=False)


def connection(index):
    return index.client.transport.get_connection()


def test_given_an_amazon_opensearch_endpoint_when_opened_then_requests_are_sigv4_signed_for_es():
    index = OpenSearchIndex.from_url("https://search-images-abc.ca-central-1.es.amazonaws.com")
    conn = connection(index)
    assert isinstance(conn, RequestsHttpConnection) and isinstance(conn.session.auth, AWS4Auth)
    assert (conn.session.auth.region, conn.session.auth.service) == ("ca-central-1", "es")


def test_given_aws_region_in_the_environment_when_opened_then_it_names_the_signing_region(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    index = OpenSearchIndex.from_url("https://vpc-images-abc.eu-west-1.es.amazonaws.com")
    assert connection(index).session.auth.region == "eu-west-1"


def test_given_a_plain_http_url_when_opened_then_requests_are_not_signed():
    index = OpenSearchIndex.from_url("http://127.0.0.1:9200", index_name="images_dev")
    assert not isinstance(connection(index), RequestsHttpConnection)
    assert index.index_name == "images_dev"


def test_given_a_custom_index_name_when_the_template_is_loaded_then_its_pattern_is_that_index():
    assert load_template("images_dev")["index_patterns"] == ["images_dev"]
