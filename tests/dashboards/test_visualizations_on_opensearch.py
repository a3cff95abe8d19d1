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

NOT_DELETED = {"bool": {"must_not": [{"term": {"deleted": True}}]}}
KUERY = {"": {"match_all": {}}, "NOT deleted:true": NOT_DELETED,
         "NOT deleted:true AND text:*": {"bool": {"filter": [NOT_DELETED, {"exists": {"field": "text"}}]}},
         "text:harbour": {"match": {"text": "harbour"}},
         "moderation.max_confidence >= 50": {"range": {"moderation.max_confidence": {"gte": 50}}},
         "moderation.max_confidence < 50": {"range": {"moderation.max_confidence": {"lt": 50}}},
         "NOT moderation.max_confidence:*": {"bool": {"must_not": [{"exists": {"field": "moderation.max_confidence"}}]}}}


def _request(visualization: dict) -> dict:
    """The search OpenSearch Dashboards sends for a visualization (the query forms this file uses)."""
    query = search_source(visualization)["query"]
    assert query["language"] == "kuery" and query["query"] in KUERY, f"untranslated query {query}"
    aggs = {}
    for agg in vis_state(visualization)["aggs"]:
        params = agg["params"]
        if agg["type"] == "terms":
            aggs[agg["id"]] = {"terms": {"field": params["field"], "size": params["size"], "order": {"_count": params["order"]}}}
        elif agg["type"] == "filters":
            aggs[agg["id"]] = {"filters": {"filters": {f["label"]: KUERY[f["input"]["query"]] for f in params["filters"]}}}
        elif agg["type"] == "date_histogram":
            aggs[agg["id"]] = {"date_histogram": {"field": params["field"], "fixed_interval": "1h", "min_doc_count": params["min_doc_count"]}}
        else:
            assert agg["type"] == "count"
    return {"size": 0, "track_total_hits": True, "query": KUERY[query["query"]], "aggs": aggs}


def _upsert(key: str, tags: list[str], sequencer: str, **analyses) -> dict:
    from autotagger.domain.documents import document_id

    labels = [{"name": t, "confidence": 90.0, "parents": [], "categories": [], "aliases": [], "instances": []} for t in tags]
    document = {"id": document_id("image-vaults", key), "bucket": "image-vaults", "key": key, "labels": labels, "tags": tags,
                "label_model_version": "test", "size": 1, "etag": "e", "sequencer": sequencer,
                "event_time": "2026-01-02T03:04:05Z", "indexed_at": "2026-01-02T03:04:06Z", **analyses}
    return {"action": "upsert", "id": document["id"], "document": document, "sequencer": sequencer}


@pytest.fixture
def indexed(osmem_server):
    from opensearchpy import OpenSearch

    from autotagger.index.opensearch import OpenSearchIndex

    with osmem_server.clone() as clone:
        client = OpenSearch(hosts=[clone.url])
        index = OpenSearchIndex(client, refresh=True)
        deleted = _upsert("gone.jpg", ["Dog", "Animal"], "01", text="HARBOUR", moderation={"labels": [], "max_confidence": 90.0})
        cat = _upsert("cat.jpg", ["Cat", "Animal"], "01", text="Harbour Road", moderation={"labels": [], "max_confidence": 0.0},
                      analysis_errors=[])
        dog = _upsert("dog.jpg", ["Dog", "Animal"], "01", text=None, moderation=None,
                      analysis_errors=[{"analysis": "text", "error": "E", "cause": "c"},
                                       {"analysis": "moderation", "error": "E", "cause": "c"}])
        results = index.apply([cat, dog, deleted])
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


def test_GIVEN_a_safe_image_an_unanalysed_one_and_a_deleted_flagged_one_WHEN_the_moderation_chart_runs_THEN_each_live_image_is_in_its_slice(
        indexed, visualizations):
    buckets = _run(indexed, visualizations, "Moderation: flagged and safe")["aggregations"]["2"]["buckets"]
    assert {label: bucket["doc_count"] for label, bucket in buckets.items()} == {"Flagged": 0, "Safe": 1, "Not analysed": 1}


def test_GIVEN_an_image_whose_analyses_failed_WHEN_the_analysis_errors_chart_runs_THEN_it_counts_it_per_analysis(
        indexed, visualizations):
    buckets = _run(indexed, visualizations, "Analysis errors")["aggregations"]["2"]["buckets"]
    assert {b["key"]: b["doc_count"] for b in buckets} == {"moderation": 1, "text": 1}


def test_GIVEN_images_with_and_without_text_WHEN_the_text_search_runs_and_is_narrowed_THEN_it_finds_the_words_in_any_case(
        indexed, saved_objects):
    client, index_name = indexed
    (search,) = [o for o in saved_objects if o["type"] == "search"]
    query = KUERY[search_source(search)["query"]["query"]]
    hits = client.search(index=index_name, body={"query": query})["hits"]["hits"]
    assert [hit["_source"]["key"] for hit in hits] == ["cat.jpg"]  # dog.jpg has no text, gone.jpg is deleted
    narrowed = {"bool": {"filter": [query, KUERY["text:harbour"]]}}
    assert [hit["_source"]["text"] for hit in client.search(index=index_name, body={"query": narrowed})["hits"]["hits"]] == [
        "Harbour Road"]
