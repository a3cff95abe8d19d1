"""The SQLite and OpenSearch adapters answer every port query alike on the same events.

Events include out-of-order uploads, deletes, a late upload after a delete and labels around the
display threshold. Ties in time, cursors and tag case: test_search_semantics.py.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from autotagger.domain.documents import action_from_record, format_time, parse_record
from autotagger.index.opensearch import OpenSearchIndex
from autotagger.index.sqlite import SQLiteIndex

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
NAMES = ["Dog", "Cat", "Ball", "Grass", "Car", "Tree"]


def events():
    rng = random.Random(11)
    start = datetime(2026, 10, 10, 9, 0, tzinfo=UTC)
    records = []
    for n in range(40):
        labels = [{"Name": name, "Confidence": round(rng.uniform(40, 100), 1)} for name in rng.sample(NAMES, 3)]
        moment = start + timedelta(hours=19 * n, minutes=rng.randint(0, 50))
        records.append({"action": "upsert", "bucket": "b", "key": f"{n % 30}.jpg", "size": n + 1, "etag": "e",
                        "sequencer": f"{100 + n:04X}", "event_time": format_time(moment), "labels": labels,
                        # the optional analyses: moderation around the threshold, some failed branches
                        "moderation": {"ModerationLabels": [{"Name": "Violence", "ParentName": "",
                                                             "TaxonomyLevel": 1, "Confidence": 45.0 + n % 4 * 2.5}]}
                        if n % 3 else {"ModerationLabels": []},
                        "analysis_errors": [{"analysis": "text", "error": "Rekognition.ThrottlingException",
                                             "cause": "rate exceeded"}] if n % 4 == 0 else []})
    records.append({"action": "delete", "bucket": "b", "key": "3.jpg", "sequencer": "0FFF",
                    "event_time": "2026-11-20T00:00:00Z"})
    records.append({"action": "upsert", "bucket": "b", "key": "3.jpg", "size": 1, "etag": "e", "sequencer": "0001",
                    "event_time": "2026-11-21T00:00:00Z", "labels": [{"Name": "Dog", "Confidence": 99.0}]})
    records.append({"action": "delete", "bucket": "b", "key": "5.jpg", "sequencer": "0001",
                    "event_time": "2026-11-22T00:00:00Z"})
    rng.shuffle(records)
    return [action_from_record(parse_record(record), NOW) for record in records]


@pytest.fixture(scope="module")
def adapters(osmem_server, tmp_path_factory):
    actions = events()
    sqlite = SQLiteIndex(tmp_path_factory.mktemp("parity") / "index.db")
    clone = osmem_server.clone()
    opensearch = OpenSearchIndex.from_url(clone.url, refresh=True)
    for adapter in (sqlite, opensearch):
        for i in range(0, len(actions), 7):
            adapter.apply(actions[i:i + 7])
    yield sqlite, opensearch
    sqlite.close()
    opensearch.close()
    clone.close()


def keys(result):
    return result["total"], [image["key"] for image in result["images"]]


@pytest.mark.parametrize("query", [
    {}, {"limit": 5, "offset": 3}, {"tags": ["Dog"]}, {"tags": ["Dog", "Cat"]}, {"tags": ["Grass"], "min_confidence": 80},
    {"tags": ["Dog"], "min_confidence": 50}, {"min_confidence": 90}, {"since": "2026-11-01T00:00:00Z"},
    {"tags": ["Car"], "since": "2026-10-20T00:00:00Z", "until": "2026-10-26T12:30:00Z"},
])
def test_given_the_same_events_when_searching_then_both_adapters_return_the_same_images(adapters, query):
    sqlite, opensearch = adapters
    assert keys(sqlite.search(**query)) == keys(opensearch.search(**query))


@pytest.mark.parametrize("query", [
    {}, {"top": 3}, {"min_confidence": 75}, {"min_confidence": 50}, {"since": "2026-11-01T00:00:00Z"},
    {"min_confidence": 80.5, "until": "2026-10-25T06:15:00Z"},
])
def test_given_the_same_events_when_counting_tags_then_both_adapters_agree(adapters, query):
    sqlite, opensearch = adapters
    assert sqlite.tag_counts(**query) == opensearch.tag_counts(**query)


@pytest.mark.parametrize("query", [
    {"interval": "hour"}, {"interval": "day"}, {"interval": "week"}, {"interval": "month"},
    {"interval": "day", "min_confidence": 95}, {"interval": "hour", "since": "2026-10-22T10:30:00Z",
                                                "until": "2026-10-25T00:00:00Z"},
])
def test_given_the_same_events_when_counting_images_then_both_adapters_agree(adapters, query):
    sqlite, opensearch = adapters
    assert sqlite.image_counts(**query) == opensearch.image_counts(**query)


def test_given_the_same_events_when_reading_every_document_then_both_adapters_store_the_same(adapters):
    sqlite, opensearch = adapters
    everything = sqlite.search(limit=100)["images"]
    assert len(everything) > 20
    assert all(opensearch.get(image["id"]) == image for image in everything)


def test_given_the_same_events_when_counting_flagged_images_and_analysis_errors_then_both_adapters_agree(adapters):
    sqlite, opensearch = adapters
    counts = sqlite.analysis_counts()
    assert counts == opensearch.analysis_counts()
    # moderation confidences 45.0 .. 52.5 straddle the threshold: some images count, not all
    with_moderation = sum(1 for image in sqlite.search(limit=100)["images"] if image["moderation"]["labels"])
    assert 0 < counts["flagged"] < with_moderation and counts["analysis_errors"] > 0
