"""Each visualization's query and aggregation, run on an OpenSearch-API server holding the real
index template and documents written by the real indexer adapter.

osmem-server speaks the OpenSearch REST API but is not OpenSearch Dashboards: it cannot import the
saved objects themselves (no /api/saved_objects), so this runs what the visualizations ask
OpenSearch for, translated here the way OpenSearch Dashboards translates them.
"""

from __future__ import annotations

import pytest
from saved_objects_support import search_source, vis_state

pytestmark = pytest.mark.integration

KUERY = {"": {"match_all": {}}, "NOT deleted:true": {"bool": {"must_not": [{"term": {"deleted": True}}]}}}


def _request(visualization: dict) -> dict:
    """The search OpenSearch Dashboards sends for a visualization (the query forms this file uses)."""
    query = search_source(visualization)["query"]
    assert query["language"] == "kuery" and query["query"] in KUERY, f"untranslated query {query}"
    aggs = {}
    for agg in vis_state(visualization)["aggs"]:
        params = agg["params"]
        if agg["type"] == "terms":
            aggs[agg["id"]] = {"terms": {"field": params["field"], "size": params["size"], "order": {"_count": params["order"]}}}
        elif agg["type"] == "date_histogram":
            aggs[agg["id"]] = {"date_histogram": {"field": params["field"], "fixed_interval": "1h", "min_doc_count": params["min_doc_count"]}}
        else:
            assert agg["type"] == "count"
    return {"size": 0, "track_total_hits": True, "query": KUERY[query["query"]], "aggs": aggs}


def _upsert(key: str, tags: list[str], sequencer: str) -> dict:
    from autotagger.domain.documents import document_id

    labels = [{"name": t, "confidence": 90.0, "parents": [], "categories": [], "aliases": [], "instances": []} for t in tags]
    document = {"id": document_id("image-vaults", key), "bucket": "image-vaults", "key": key, "labels": labels, "tags": tags,
                "label_model_version": "test", "size": 1, "etag": "e", "sequencer": sequencer,
                "event_time": "2026-01-02T03:04:05Z", "indexed_at": "2026-01-02T03:04:06Z"}
    return {"action": "upsert", "id": document["id"], "document": document, "sequencer": sequencer}


@pytest.fixture
def indexed(osmem_server):
    from opensearchpy import OpenSearch

    from autotagger.index.opensearch import OpenSearchIndex

    with osmem_server.clone() as clone:
        client = OpenSearch(hosts=[clone.url])
        index = OpenSearchIndex(client, refresh=True)
        deleted = _upsert("gone.jpg", ["Dog", "Animal"], "01")
        results = index.apply([_upsert("cat.jpg", ["Cat", "Animal"], "01"), _upsert("dog.jpg", ["Dog", "Animal"], "01"), deleted])
        results += index.apply([{"action": "delete", "id": deleted["id"], "sequencer": "02", "document": {"bucket": "image-vaults", "key": "gone.jpg"}}])
        assert {r["status"] for r in results} == {"applied"}
        yield client, index.index_name


def _run(indexed, visualizations, title):
    client, index_name = indexed
    (visualization,) = [v for v in visualizations if v["attributes"]["title"] == title]
    return client.search(index=index_name, body=_request(visualization))


def test_GIVEN_two_live_images_and_a_deleted_one_WHEN_the_image_count_runs_THEN_it_counts_the_two(indexed, visualizations):
    assert _run(indexed, visualizations, "Image count")["hits"]["total"]["value"] == 2


@pytest.mark.parametrize("title", ["Tag cloud", "Tag count", "Tag pie chart"])
def test_GIVEN_two_live_images_and_a_deleted_one_WHEN_a_tag_visualization_runs_THEN_it_counts_images_per_tag(indexed, visualizations, title):
    buckets = _run(indexed, visualizations, title)["aggregations"]["2"]["buckets"]
    assert {b["key"]: b["doc_count"] for b in buckets} == {"Animal": 2, "Cat": 1, "Dog": 1}
    assert buckets[0]["key"] == "Animal"


def test_GIVEN_two_live_images_WHEN_images_over_time_runs_THEN_they_fall_in_their_upload_hour(indexed, visualizations):
    buckets = _run(indexed, visualizations, "Images over time")["aggregations"]["2"]["buckets"]
    assert [(b["key_as_string"][:13], b["doc_count"]) for b in buckets] == [("2026-01-02T03", 2)]
