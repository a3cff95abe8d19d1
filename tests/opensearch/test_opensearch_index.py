"""The OpenSearch ImageIndex against osmem-server on loopback (an OpenSearch-API server, not OpenSearch)."""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from autotagger.contracts import RETAG_SEQUENCER
from autotagger.domain.documents import action_from_record, document_id, parse_record
from autotagger.index import open_index
from autotagger.index.opensearch import OpenSearchIndex, install_template, template_name
from autotagger.ports import ImageIndex

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")]

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def upsert(key, sequencer, event_time="2026-11-25T12:00:00Z", labels=(("Dog", 97.0),)):
    record = {"action": "upsert", "bucket": "b", "key": key, "size": 1, "etag": "e", "sequencer": sequencer,
              "event_time": event_time, "labels": [{"Name": n, "Confidence": c} for n, c in labels]}
    return action_from_record(parse_record(record), NOW)


def delete(key, sequencer, event_time="2026-11-25T12:00:00Z"):
    record = {"action": "delete", "bucket": "b", "key": key, "sequencer": sequencer, "event_time": event_time}
    return action_from_record(parse_record(record), NOW)


def statuses(results):
    return [result["status"] for result in results]


@pytest.fixture
def index(osmem_clone):
    return OpenSearchIndex.from_url(osmem_clone.url, refresh=True)


def test_given_an_http_url_when_opened_then_the_opensearch_adapter_satisfies_the_port(osmem_clone):
    assert isinstance(open_index(osmem_clone.url), ImageIndex)


def test_given_a_new_cluster_when_first_used_then_the_template_and_index_mapping_are_installed(index):
    index.apply([upsert("dog.jpg", "01")])
    templates = index.client.indices.get_index_template(name=template_name("image_insights"))["index_templates"]
    assert templates[0]["index_template"]["index_patterns"] == ["image_insights"]
    mapping = index.client.indices.get_mapping(index="image_insights")["image_insights"]["mappings"]["properties"]
    assert (mapping["tags"]["type"], mapping["labels"]["type"], mapping["event_time"]["type"]) == (
        "keyword", "nested", "date")


def test_given_an_installed_template_when_installed_again_then_nothing_is_rewritten(index):
    assert install_template(index.client) is True
    assert install_template(index.client) is False


def test_given_a_batch_when_applied_then_one_bulk_request_carries_it(index, monkeypatch):
    index.ensure_ready()
    paths = []
    perform = index.client.transport.perform_request

    def spy(method, url, *args, **kwargs):
        paths.append(url)
        return perform(method, url, *args, **kwargs)

    monkeypatch.setattr(index.client.transport, "perform_request", spy)
    assert statuses(index.apply([upsert(f"{n}.jpg", "01") for n in range(5)])) == ["applied"] * 5
    assert [path for path in paths if path.endswith("/_bulk")] == ["/_bulk"]


def test_given_an_upsert_when_applied_then_get_returns_the_contract_document(index):
    action = upsert("dog.jpg", "01")
    index.apply([action])
    assert index.get(action["id"]) == action["document"]


def test_given_a_reupload_when_applied_then_one_document_holds_the_new_labels(index):
    index.apply([upsert("dog.jpg", "01")])
    assert statuses(index.apply([upsert("dog.jpg", "02", labels=(("Cat", 90.0),))])) == ["applied"]
    assert index.count() == 1 and index.get(document_id("b", "dog.jpg"))["tags"] == ["Cat"]


def test_given_a_newer_document_when_an_older_upsert_arrives_then_it_is_stale(index):
    index.apply([upsert("dog.jpg", "0062E99A88DC407460")])
    assert statuses(index.apply([upsert("dog.jpg", "62E99A88DC40745F", labels=(("Cat", 90.0),))])) == ["stale"]
    assert index.get(document_id("b", "dog.jpg"))["tags"] == ["Dog"]


def test_given_a_delete_when_applied_then_the_image_leaves_every_query(index):
    index.apply([upsert("dog.jpg", "01"), upsert("cat.jpg", "01", labels=(("Cat", 90.0),))])
    assert statuses(index.apply([delete("dog.jpg", "02")])) == ["applied"]
    assert index.get(document_id("b", "dog.jpg")) is None
    assert [image["key"] for image in index.search()["images"]] == ["cat.jpg"]
    assert index.tag_counts() == [{"tag": "Cat", "count": 1}]
    assert index.image_counts("day") == [{"time": "2026-11-25T00:00:00Z", "count": 1}]


def test_given_a_newer_upload_when_an_older_delete_arrives_then_it_is_stale(index):
    index.apply([upsert("dog.jpg", "05")])
    assert statuses(index.apply([delete("dog.jpg", "04")])) == ["stale"]
    assert index.get(document_id("b", "dog.jpg")) is not None


def test_given_a_tombstone_when_an_older_upsert_arrives_late_then_the_image_stays_deleted(index):
    index.apply([delete("dog.jpg", "05")])
    assert statuses(index.apply([upsert("dog.jpg", "04")])) == ["stale"]
    assert index.search(tags=["Dog"])["total"] == 0


def test_given_one_invalid_document_when_bulk_applied_then_only_its_item_is_an_error(index):
    bad = upsert("bad.jpg", "01")
    bad["document"]["event_time"] = "not a date"
    results = index.apply([upsert("a.jpg", "01"), bad, upsert("c.jpg", "01")])
    assert statuses(results) == ["applied", "error", "applied"]
    assert results[1]["error"].startswith("400")


def test_given_a_writer_racing_between_read_and_write_when_applied_then_the_newer_state_is_kept(index, monkeypatch):
    index.apply([upsert("dog.jpg", "01")])
    mget = index.client.mget
    raced = []

    def racing_mget(*args, **kwargs):
        found = mget(*args, **kwargs)
        if not raced:  # another writer lands a newer event after our read
            raced.append(True)
            other = OpenSearchIndex(index.client, refresh=True)
            other.apply([upsert("dog.jpg", "09", labels=(("Wolf", 90.0),))])
        return found

    monkeypatch.setattr(index.client, "mget", racing_mget)
    assert statuses(index.apply([upsert("dog.jpg", "05", labels=(("Cat", 90.0),))])) == ["stale"]
    assert index.get(document_id("b", "dog.jpg"))["tags"] == ["Wolf"]


def test_given_tagged_images_when_searching_by_tag_then_all_tags_must_match(index):
    index.apply([upsert("a.jpg", "1", labels=(("Dog", 90.0), ("Ball", 80.0))),
                 upsert("b.jpg", "1", labels=(("Dog", 90.0),))])
    found = index.search(tags=["Dog", "Ball"])
    assert found["total"] == 1 and found["images"][0]["key"] == "a.jpg"


def test_given_min_confidence_above_the_threshold_when_searching_then_the_matching_label_decides(index):
    index.apply([upsert("a.jpg", "1", labels=(("Dog", 60.0), ("Ball", 99.0))),
                 upsert("b.jpg", "1", labels=(("Dog", 95.0),))])
    assert [image["key"] for image in index.search(tags=["Dog"], min_confidence=90)["images"]] == ["b.jpg"]


def test_given_images_at_different_times_when_searching_a_range_then_newest_first_with_paging(index):
    index.apply([upsert(f"{hour}.jpg", "1", event_time=f"2026-11-25T{hour:02d}:00:00Z") for hour in range(5)])
    page = index.search(since="2026-11-25T01:00:00Z", until="2026-11-25T04:00:00Z", limit=2, offset=1)
    assert page["total"] == 3 and [image["key"] for image in page["images"]] == ["2.jpg", "1.jpg"]


def test_given_tags_of_different_frequency_when_counted_then_a_terms_aggregation_ranks_them(index):
    index.apply([upsert("a.jpg", "1", labels=(("Dog", 90.0), ("Ball", 60.0))),
                 upsert("b.jpg", "1", labels=(("Dog", 70.0),)), upsert("c.jpg", "1", labels=(("Cat", 95.0),))])
    assert index.tag_counts(top=2) == [{"tag": "Dog", "count": 2}, {"tag": "Ball", "count": 1}]


def test_given_min_confidence_above_the_threshold_when_counting_tags_then_weaker_labels_do_not_count(index):
    index.apply([upsert("a.jpg", "1", labels=(("Dog", 90.0), ("Ball", 60.0))),
                 upsert("b.jpg", "1", labels=(("Dog", 70.0),))])
    assert index.tag_counts(min_confidence=80) == [{"tag": "Dog", "count": 1}]


@pytest.mark.parametrize("interval, expected", [
    ("day", [("2026-11-23T00:00:00Z", 2), ("2026-11-29T00:00:00Z", 1), ("2026-12-01T00:00:00Z", 1)]),
    ("week", [("2026-11-23T00:00:00Z", 3), ("2026-11-30T00:00:00Z", 1)]),
    ("month", [("2026-11-01T00:00:00Z", 3), ("2026-12-01T00:00:00Z", 1)]),
])
def test_given_images_over_two_weeks_when_counted_then_a_date_histogram_buckets_them(index, interval, expected):
    times = ["2026-11-23T10:05:00Z", "2026-11-23T10:55:00Z", "2026-11-29T23:59:59Z", "2026-12-01T00:00:00Z"]
    index.apply([upsert(f"{n}.jpg", "1", event_time=t) for n, t in enumerate(times)])
    assert [(b["time"], b["count"]) for b in index.image_counts(interval)] == expected


def test_given_opensearch_endpoint_in_the_environment_when_the_handler_runs_then_images_are_indexed(
        osmem_clone, monkeypatch, lambda_context):
    monkeypatch.setenv("OPENSEARCH_ENDPOINT", osmem_clone.url)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    spec = importlib.util.spec_from_file_location("indexer_handler_os", ROOT / "functions/indexer/handler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    batch = json.loads((ROOT / "tests/events/kinesis_batch.json").read_text())
    assert module.handler(batch, lambda_context) == {"batchItemFailures": []}
    index = module.index_from_environment()
    index.refresh_now()
    assert [image["key"] for image in index.search(tags=["Mammal"])["images"]] == ["raw-image/cat.png",
                                                                                    "raw-image/dog.jpg"]


def test_given_a_time_that_is_not_iso_8601_when_searching_then_a_value_error_is_raised(index):
    with pytest.raises(ValueError):
        index.search(since="yesterday")


def test_given_an_upsert_when_applied_then_the_callers_action_is_left_as_it_was_and_the_stored_copy_has_the_id(index):
    action = upsert("dog.jpg", "01", labels=(("Dog", 97.0), ("Pet", 80.0)))
    before = json.loads(json.dumps(action))
    assert statuses(index.apply([action])) == ["applied"]
    assert action == before
    stored = index.get(document_id("b", "dog.jpg"))
    assert stored["id"] == document_id("b", "dog.jpg") and stored["labels"] == action["document"]["labels"]


def test_given_a_retag_building_on_an_upload_of_the_batch_when_the_write_fails_then_both_are_errors(index):
    """The stream must retry the upload too: retried alone, the re-tag would find the older document."""
    upload = upsert("dog.jpg", "05")
    upload["document"]["event_time"] = "not a date"  # the re-tag takes it over, so its document fails
    retag = upsert("dog.jpg", RETAG_SEQUENCER, labels=(("Tiger", 91.0),))
    results = index.apply([upload, retag, upsert("cat.jpg", "01")])
    assert statuses(results) == ["error", "error", "applied"]
    assert results[0]["error"] == results[1]["error"] and results[0]["error"].startswith("400")
