"""The SQLite ImageIndex: conditional writes, tombstones and every query of the port."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime

import pytest

from autotagger.contracts import RETAG_SEQUENCER
from autotagger.domain.documents import action_from_record, document_id, parse_record
from autotagger.errors import UserError
from autotagger.index import open_index
from autotagger.index.sqlite import SQLiteIndex
from autotagger.ports import ImageIndex

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def upsert(key, sequencer, event_time="2026-11-25T12:00:00Z", labels=(("Dog", 97.0),), bucket="b"):
    record = {"action": "upsert", "bucket": bucket, "key": key, "size": 1, "etag": "e", "sequencer": sequencer,
              "event_time": event_time, "labels": [{"Name": n, "Confidence": c} for n, c in labels]}
    return action_from_record(parse_record(record), NOW)


def delete(key, sequencer, event_time="2026-11-25T12:00:00Z", bucket="b"):
    record = {"action": "delete", "bucket": bucket, "key": key, "sequencer": sequencer, "event_time": event_time}
    return action_from_record(parse_record(record), NOW)


@pytest.fixture
def index(tmp_path):
    index = SQLiteIndex(tmp_path / "index.db")
    yield index
    index.close()


def statuses(results):
    return [result["status"] for result in results]


def test_given_a_sqlite_path_when_opened_then_the_adapter_satisfies_the_port(tmp_path):
    assert isinstance(open_index(tmp_path / "x.db"), ImageIndex)


def test_given_an_upsert_when_applied_then_get_returns_the_document(index):
    action = upsert("dog.jpg", "10")
    assert statuses(index.apply([action])) == ["applied"]
    assert index.get(action["id"]) == action["document"]


def test_given_a_reupload_when_applied_then_one_document_holds_the_new_labels(index):
    index.apply([upsert("dog.jpg", "10")])
    index.apply([upsert("dog.jpg", "11", labels=(("Cat", 90.0),))])
    assert index.search()["total"] == 1
    assert index.get(document_id("b", "dog.jpg"))["tags"] == ["Cat"]
    assert index.tag_counts() == [{"tag": "Cat", "count": 1}]


def test_given_a_newer_document_when_an_older_upsert_arrives_then_it_is_stale_and_changes_nothing(index):
    index.apply([upsert("dog.jpg", "0B", labels=(("Dog", 97.0),))])
    assert statuses(index.apply([upsert("dog.jpg", "0A", labels=(("Cat", 90.0),))])) == ["stale"]
    assert index.get(document_id("b", "dog.jpg"))["tags"] == ["Dog"]


def test_given_a_newer_upload_when_an_older_delete_arrives_then_it_is_stale_and_the_image_stays(index):
    index.apply([upsert("dog.jpg", "0B")])
    assert statuses(index.apply([delete("dog.jpg", "0A")])) == ["stale"]
    assert index.get(document_id("b", "dog.jpg")) is not None


def test_given_a_delete_when_applied_then_the_image_disappears_from_every_query(index):
    index.apply([upsert("dog.jpg", "0A"), upsert("cat.jpg", "0A", labels=(("Cat", 90.0),))])
    assert statuses(index.apply([delete("dog.jpg", "0B")])) == ["applied"]
    assert index.get(document_id("b", "dog.jpg")) is None
    assert [image["key"] for image in index.search()["images"]] == ["cat.jpg"]
    assert index.search(tags=["Dog"])["total"] == 0
    assert index.tag_counts() == [{"tag": "Cat", "count": 1}]
    assert sum(bucket["count"] for bucket in index.image_counts("day")) == 1


def test_given_a_tombstone_when_an_older_upsert_arrives_late_then_the_image_is_not_resurrected(index):
    index.apply([delete("dog.jpg", "0C")])
    assert statuses(index.apply([upsert("dog.jpg", "0B")])) == ["stale"]
    assert index.get(document_id("b", "dog.jpg")) is None and index.search()["total"] == 0


def test_given_a_tombstone_when_a_newer_upload_arrives_then_the_image_returns(index):
    index.apply([delete("dog.jpg", "0C")])
    assert statuses(index.apply([upsert("dog.jpg", "0D")])) == ["applied"]
    assert index.search(tags=["Dog"])["total"] == 1


def test_given_the_same_event_twice_when_applied_then_it_is_applied_idempotently(index):
    action = upsert("dog.jpg", "0A")
    index.apply([action])
    assert statuses(index.apply([action])) == ["applied"]
    assert index.search()["total"] == 1 and index.tag_counts() == [{"tag": "Dog", "count": 1}]


def test_given_one_batch_with_old_and_new_events_for_a_key_when_applied_then_the_newest_wins(index):
    results = index.apply([upsert("dog.jpg", "0B", labels=(("Dog", 90.0),)),
                           upsert("dog.jpg", "0A", labels=(("Cat", 90.0),))])
    assert statuses(results) == ["applied", "stale"]
    assert index.get(document_id("b", "dog.jpg"))["tags"] == ["Dog"]


def test_given_an_action_without_a_sequencer_when_applied_then_only_it_is_an_error(index):
    good = upsert("dog.jpg", "0A")
    bad = {"action": "upsert", "id": "x", "document": {"id": "x"}}
    results = index.apply([bad, good])
    assert statuses(results) == ["error", "applied"] and "sequencer" in results[0]["error"]


def test_given_images_with_several_tags_when_searching_two_tags_then_only_images_with_both_match(index):
    index.apply([upsert("a.jpg", "1", labels=(("Dog", 90.0), ("Ball", 80.0))),
                 upsert("b.jpg", "1", labels=(("Dog", 90.0),)),
                 upsert("c.jpg", "1", labels=(("Ball", 70.0),))])
    assert [image["key"] for image in index.search(tags=["Dog", "Ball"])["images"]] == ["a.jpg"]


def test_given_min_confidence_when_searching_a_tag_then_it_applies_to_the_matching_label(index):
    index.apply([upsert("a.jpg", "1", labels=(("Dog", 60.0), ("Ball", 99.0))),
                 upsert("b.jpg", "1", labels=(("Dog", 95.0),))])
    assert [image["key"] for image in index.search(tags=["Dog"], min_confidence=90)["images"]] == ["b.jpg"]


def test_given_a_label_below_the_display_threshold_when_searching_it_then_nothing_matches(index):
    index.apply([upsert("a.jpg", "1", labels=(("Grass", 54.9),))])
    assert index.search(tags=["Grass"])["total"] == 0 and index.tag_counts() == []


def test_given_images_at_different_times_when_searching_then_newest_come_first_with_paging(index):
    index.apply([upsert(f"{hour}.jpg", "1", event_time=f"2026-11-25T{hour:02d}:00:00Z") for hour in range(5)])
    page = index.search(limit=2, offset=1)
    assert page["total"] == 5 and [image["key"] for image in page["images"]] == ["3.jpg", "2.jpg"]


def test_given_a_time_range_when_searching_then_since_is_inclusive_and_until_exclusive(index):
    index.apply([upsert(f"{hour}.jpg", "1", event_time=f"2026-11-25T{hour:02d}:00:00Z") for hour in range(5)])
    found = index.search(tags=["Dog"], since="2026-11-25T01:00:00Z", until="2026-11-25T03:00:00Z")
    assert [image["key"] for image in found["images"]] == ["2.jpg", "1.jpg"] and found["total"] == 2


def test_given_a_time_range_off_the_hour_when_searching_all_images_then_the_total_is_exact(index):
    index.apply([upsert(f"{minute}.jpg", "1", event_time=f"2026-11-25T10:{minute:02d}:00Z") for minute in range(0, 60, 10)]
                + [upsert("next.jpg", "1", event_time="2026-11-25T11:05:00Z")])
    assert index.search(since="2026-11-25T10:15:00Z", until="2026-11-25T11:10:00Z")["total"] == 5


def test_given_tags_of_different_frequency_when_counted_then_the_most_frequent_come_first(index):
    index.apply([upsert("a.jpg", "1", labels=(("Dog", 90.0), ("Ball", 60.0))),
                 upsert("b.jpg", "1", labels=(("Dog", 90.0),)),
                 upsert("c.jpg", "1", labels=(("Cat", 70.0),))])
    assert index.tag_counts(top=2) == [{"tag": "Dog", "count": 2}, {"tag": "Ball", "count": 1}]


def test_given_min_confidence_when_counting_tags_then_weaker_labels_do_not_count(index):
    index.apply([upsert("a.jpg", "1", labels=(("Dog", 90.0), ("Ball", 60.0))),
                 upsert("b.jpg", "1", labels=(("Dog", 70.0),))])
    assert index.tag_counts(min_confidence=80) == [{"tag": "Dog", "count": 1}]


def test_given_a_time_range_when_counting_tags_then_only_images_inside_count(index):
    index.apply([upsert("a.jpg", "1", event_time="2026-11-24T10:00:00Z", labels=(("Cat", 90.0),)),
                 upsert("b.jpg", "1", event_time="2026-11-25T10:00:00Z")])
    assert index.tag_counts(since="2026-11-25T00:00:00Z") == [{"tag": "Dog", "count": 1}]


@pytest.mark.parametrize("interval, expected", [
    ("hour", [("2026-11-23T10:00:00Z", 2), ("2026-11-29T23:00:00Z", 1), ("2026-12-01T00:00:00Z", 1)]),
    ("day", [("2026-11-23T00:00:00Z", 2), ("2026-11-29T00:00:00Z", 1), ("2026-12-01T00:00:00Z", 1)]),
    ("week", [("2026-11-23T00:00:00Z", 3), ("2026-11-30T00:00:00Z", 1)]),
    ("month", [("2026-11-01T00:00:00Z", 3), ("2026-12-01T00:00:00Z", 1)]),
])
def test_given_images_over_two_weeks_when_counted_per_interval_then_buckets_are_calendar_aligned(
        index, interval, expected):
    times = ["2026-11-23T10:05:00Z", "2026-11-23T10:55:00Z", "2026-11-29T23:59:59Z", "2026-12-01T00:00:00Z"]
    index.apply([upsert(f"{n}.jpg", "1", event_time=t) for n, t in enumerate(times)])
    assert [(b["time"], b["count"]) for b in index.image_counts(interval)] == expected


def test_given_a_range_off_the_hour_when_counting_images_then_partial_hours_are_exact(index):
    times = ["2026-11-25T10:05:00Z", "2026-11-25T10:40:00Z", "2026-11-25T11:30:00Z", "2026-11-25T12:10:00Z"]
    index.apply([upsert(f"{n}.jpg", "1", event_time=t) for n, t in enumerate(times)])
    counts = index.image_counts("hour", since="2026-11-25T10:30:00Z", until="2026-11-25T12:00:00Z")
    assert counts == [{"time": "2026-11-25T10:00:00Z", "count": 1}, {"time": "2026-11-25T11:00:00Z", "count": 1}]


def test_given_min_confidence_when_counting_images_then_only_images_with_a_strong_tag_count(index):
    index.apply([upsert("a.jpg", "1", labels=(("Dog", 95.0),)), upsert("b.jpg", "1", labels=(("Dog", 60.0),))])
    assert index.image_counts("day", min_confidence=90) == [{"time": "2026-11-25T00:00:00Z", "count": 1}]


def test_given_an_unknown_interval_when_counting_images_then_it_is_refused(index):
    with pytest.raises(ValueError):
        index.image_counts("fortnight")


def test_given_a_writer_thread_when_another_thread_reads_then_both_see_consistent_data(index):
    errors = []

    def write():
        try:
            for n in range(50):
                index.apply([upsert(f"{n}.jpg", "1")])
        except Exception as exc:  # noqa: BLE001 - any error of the writer thread is reported below
            errors.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    while writer.is_alive():
        found = index.search(tags=["Dog"], limit=100)
        assert found["total"] >= len(found["images"])
    writer.join()
    assert errors == [] and index.search(tags=["Dog"])["total"] == 50


def test_given_an_index_file_when_reopened_then_documents_persist(tmp_path):
    first = SQLiteIndex(tmp_path / "index.db")
    first.apply([upsert("dog.jpg", "1")])
    first.close()
    assert SQLiteIndex(tmp_path / "index.db").search(tags=["Dog"])["total"] == 1


def test_given_a_fractional_min_confidence_when_counting_tags_then_the_boundary_is_exact(index):
    index.apply([upsert("a.jpg", "1", labels=(("Dog", 80.4),)), upsert("b.jpg", "1", labels=(("Dog", 80.5),)),
                 upsert("c.jpg", "1", labels=(("Dog", 81.0),))])
    assert index.tag_counts(min_confidence=80.5) == [{"tag": "Dog", "count": 2}]


def test_given_a_reupload_with_weaker_labels_when_counting_confident_tags_then_the_old_labels_are_gone(index):
    index.apply([upsert("a.jpg", "1", labels=(("Dog", 95.0),))])
    index.apply([upsert("a.jpg", "2", labels=(("Dog", 60.0),))])
    assert index.tag_counts(min_confidence=90) == [] and index.tag_counts() == [{"tag": "Dog", "count": 1}]


def test_given_a_deleted_image_when_counting_confident_tags_then_it_does_not_count(index):
    index.apply([upsert("a.jpg", "1", labels=(("Dog", 95.0),)), upsert("b.jpg", "1", labels=(("Dog", 96.0),))])
    index.apply([delete("a.jpg", "2")])
    assert index.tag_counts(min_confidence=90) == [{"tag": "Dog", "count": 1}]


def test_given_connections_in_several_threads_when_closed_then_all_close_and_the_index_reopens(index):
    index.apply([upsert("dog.jpg", "1")])
    reader = threading.Thread(target=lambda: index.search())
    reader.start()
    reader.join()
    opened = list(index._open)
    index.close()
    with pytest.raises(sqlite3.ProgrammingError):
        opened[-1].execute("SELECT 1")
    assert len(opened) == 2 and index.search()["total"] == 1


def test_given_a_file_of_another_schema_version_when_opened_then_a_user_error_says_so(tmp_path):
    path = tmp_path / "old.db"
    sqlite3.connect(path).execute("PRAGMA user_version = 99").connection.close()
    with pytest.raises(UserError, match="schema 99"):
        SQLiteIndex(path)


def test_given_an_action_without_an_id_when_applied_then_only_it_is_an_error(index):
    bad = dict(upsert("x.jpg", "1"), id=None)
    assert statuses(index.apply([upsert("dog.jpg", "1"), bad])) == ["applied", "error"]


def test_given_a_batch_that_could_not_be_written_when_retried_then_new_tags_are_counted(tmp_path):
    path = tmp_path / "index.db"
    index = SQLiteIndex(path, timeout=0.05)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    assert statuses(index.apply([upsert("zebra.jpg", "1", labels=(("Zebra", 90.0),))])) == ["error"]
    blocker.execute("ROLLBACK")
    assert statuses(index.apply([upsert("zebra.jpg", "1", labels=(("Zebra", 90.0),))])) == ["applied"]
    assert index.tag_counts() == [{"tag": "Zebra", "count": 1}]


def test_given_a_range_off_the_hour_when_counting_tags_then_whole_and_partial_hours_add_up(index):
    times = ["2026-11-25T09:50:00Z", "2026-11-25T10:10:00Z", "2026-11-25T11:30:00Z", "2026-11-25T12:20:00Z",
             "2026-11-25T12:40:00Z"]
    index.apply([upsert(f"{n}.jpg", "1", event_time=t) for n, t in enumerate(times)])
    index.apply([delete("2.jpg", "2", event_time="2026-11-25T13:00:00Z")])
    assert index.tag_counts(since="2026-11-25T10:00:00Z", until="2026-11-25T12:30:00Z") == [{"tag": "Dog", "count": 2}]


def test_given_many_tagged_images_when_searching_several_tags_with_min_confidence_then_every_shape_matches_a_scan(
        index):
    import random

    rng = random.Random(3)
    names = ["Dog", "Ball", "Grass", "Tree"]
    stored = {}
    for number in range(120):
        labels = tuple((name, rng.choice([79.5, 80.0, 80.25, 80.5, 81.0, 90.0, 100.0, round(rng.uniform(55, 100), 3)]))
                       for name in names if rng.random() < 0.7)
        key, event_time = f"{number}.jpg", f"2026-11-{1 + number % 20:02d}T{number % 24:02d}:{number % 60:02d}:00Z"
        stored[key] = (event_time, dict(labels))
        index.apply([upsert(key, "1", event_time=event_time, labels=labels)])
    # a re-upload changes the confidences every tag row of the image carries
    stored["0.jpg"] = (stored["0.jpg"][0], {"Dog": 99.0, "Ball": 56.0})
    index.apply([upsert("0.jpg", "2", event_time=stored["0.jpg"][0], labels=tuple(stored["0.jpg"][1].items()))])

    for tags in (["Dog", "Ball"], ["Ball", "Dog", "Grass"], ["Tree", "Grass", "Ball", "Dog"]):
        for min_confidence in (0, 55, 80, 80.25, 80.3, 80.5, 81, 99.99, 100, 100.5):
            for since, until in ((None, None), ("2026-11-05T00:00:00Z", "2026-11-12T06:30:00Z")):
                expected = sorted((event_time, key) for key, (event_time, confidences) in stored.items()
                                  if all(confidences.get(tag, -1) >= min_confidence for tag in tags)
                                  and (since is None or since <= event_time < until))
                found = index.search(tags=tags, min_confidence=min_confidence, since=since, until=until, limit=500)
                assert found["total"] == len(expected), (tags, min_confidence, since)
                assert sorted((image["event_time"], image["key"]) for image in found["images"]) == expected
                page = index.search(tags=tags, min_confidence=min_confidence, since=since, until=until,
                                    limit=3, offset=2)
                assert page["total"] == len(expected)
                assert page["images"] == found["images"][2:5]


def test_given_a_range_holding_every_image_when_counting_tags_then_it_equals_no_range_and_until_stays_exclusive(
        index):
    index.apply([upsert("a.jpg", "1", event_time="2026-11-20T10:00:00Z", labels=(("Dog", 90.0),)),
                 upsert("b.jpg", "1", event_time="2026-11-25T12:30:00Z", labels=(("Dog", 70.0), ("Cat", 95.0)))])
    everything = {"since": "2000-01-01T00:00:00Z", "until": "2026-11-25T12:30:01Z"}
    assert index.tag_counts(min_confidence=80, **everything) == index.tag_counts(min_confidence=80)
    assert index.tag_counts(**everything) == index.tag_counts()
    assert index.search(tags=["Dog"], **everything)["total"] == 2
    before_last = {"since": "2000-01-01T00:00:00Z", "until": "2026-11-25T12:30:00Z"}
    assert index.tag_counts(min_confidence=80, **before_last) == [{"tag": "Dog", "count": 1}]
    assert index.search(tags=["Dog"], **before_last)["total"] == 1


def _observable(index):
    """Everything a reader can see: live documents, tag counters (all, confident, per hour) and image counts."""
    return {"search": index.search(limit=500), "count": index.count(),
            "tags": index.tag_counts(top=1000), "confident": index.tag_counts(top=1000, min_confidence=80),
            "hourly": index.tag_counts(top=1000, since="2026-11-25T11:00:00Z", until="2026-11-25T13:00:00Z"),
            "images": index.image_counts("hour"), "dogs": index.search(tags=["Dog"], limit=500)}


def test_given_a_batch_mixing_stored_new_stale_and_repeated_ids_when_applied_then_it_equals_applying_one_by_one(
        tmp_path):
    stored = [upsert("a.jpg", "05", labels=(("Dog", 90.0), ("Cat", 60.0))), upsert("b.jpg", "05"),
              delete("c.jpg", "05"), upsert("d.jpg", "05", event_time="2026-11-25T11:10:00Z")]
    batch = [upsert("a.jpg", "04", labels=(("Bird", 99.0),)),  # stale against the stored document
             upsert("a.jpg", "06", labels=(("Cat", 85.0),), event_time="2026-11-25T12:40:00Z"),
             delete("b.jpg", "06"), upsert("b.jpg", "07", labels=(("Fish", 81.0),)),  # delete, then back
             upsert("c.jpg", "04"),  # stale against the tombstone
             upsert("new.jpg", "01", labels=(("Owl", 70.0),)), upsert("new.jpg", "01", labels=(("Dog", 88.0),)),
             upsert("new.jpg", "00"),  # stale against the same batch
             delete("d.jpg", "06"), delete("gone.jpg", "01"), {"action": "upsert", "id": "x", "document": {}},
             upsert("e.jpg", "01", labels=(("Dog", 55.5),), event_time="2026-11-25T12:59:59Z"),
             upsert("a.jpg", RETAG_SEQUENCER, labels=(("Tiger", 92.0),)),  # relabels a.jpg of "06", keeps its time
             upsert("c.jpg", RETAG_SEQUENCER), upsert("f.jpg", RETAG_SEQUENCER)]  # stale (tombstone); new
    together, one_by_one = SQLiteIndex(tmp_path / "together.db"), SQLiteIndex(tmp_path / "one_by_one.db")
    for index in (together, one_by_one):
        index.apply(stored)
    batch_results = together.apply(batch)
    single_results = [result for action in batch for result in one_by_one.apply([action])]
    assert batch_results == single_results
    assert _observable(together) == _observable(one_by_one)
    together.close(), one_by_one.close()


def test_given_more_ids_than_one_statement_takes_when_applied_twice_then_all_are_written_and_then_stale(index):
    many = [upsert(f"{n}.jpg", "02", labels=((f"Tag{n % 700}", 90.0),)) for n in range(1200)]
    assert set(statuses(index.apply(many))) == {"applied"}
    older = [upsert(f"{n}.jpg", "01") for n in range(1200)]
    assert set(statuses(index.apply(older))) == {"stale"}
    assert index.count() == 1200 and len(index.tag_counts(top=1000)) == 700


# -- text and safe: both query plans answer alike ----------------------------------------------------

def analysed(key, sequencer, minute, labels, text, flagged):
    record = {"action": "upsert", "bucket": "b", "key": key, "size": 1, "etag": "e", "sequencer": sequencer,
              "event_time": f"2026-11-25T{10 + minute // 60:02d}:{minute % 60:02d}:00Z",
              "labels": [{"Name": n, "Confidence": c} for n, c in labels],
              "text": {"TextDetections": [{"DetectedText": text, "Type": "LINE"}] if text else []},
              "moderation": {"ModerationLabels": [{"Name": "Violence", "Confidence": 90.0}] if flagged else []}}
    return action_from_record(parse_record(record), NOW)


def test_given_text_and_safe_searches_when_run_from_the_words_or_from_the_time_and_tag_indexes_then_the_answers_are_the_same(
        tmp_path, monkeypatch):
    """A text search matching few documents starts from them, one matching many walks the time or tag
    index (`WORDS_DRIVE`): with the limit at 0 every search takes the other plan, and must answer alike."""
    from autotagger.index import sqlite as sqlite_module
    from tests.fakes import FakeImageIndex

    actions = [analysed(f"{n:02d}.jpg", f"{n + 1:02X}", n % 50, (("Dog", 60.0 + n % 40),) if n % 3 else (("Cat", 90.0),),
                        "Harbour road" if n % 4 == 0 else "harbour" if n % 4 == 1 else "Quay" if n % 4 == 2 else "",
                        n % 5 == 0)
               for n in range(80)]
    actions.append(delete("08.jpg", "FF"))  # a tombstone keeps no words
    index, reference = SQLiteIndex(tmp_path / "index.db"), FakeImageIndex()
    index.apply(actions)
    reference.apply(actions)
    queries = [{"text": "harbour"}, {"text": "HARBOUR road"}, {"text": "quay", "safe": True},
               {"text": "harbour", "tags": ["dog"]}, {"text": "harbour", "tags": ["DOG"], "min_confidence": 80},
               {"text": "harbour", "since": "2026-11-25T10:10:00Z", "until": "2026-11-25T10:40:00Z"},
               {"text": "harbour", "safe": True, "tags": ["cat"]}, {"safe": True}, {"safe": True, "tags": ["dog"]},
               {"safe": True, "tags": ["dog"], "since": "2026-11-25T10:20:00Z"}, {"text": "nowhere"}]

    def answers():
        found = []
        for query in queries:
            pages, cursor = [], None
            while True:
                page = index.search(limit=7, cursor=cursor, **query)
                pages.append((page["total"], [image["key"] for image in page["images"]]))
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            found.append(pages)
        return found

    from_words = answers()
    monkeypatch.setattr(sqlite_module, "WORDS_DRIVE", 0)
    assert answers() == from_words
    for query, pages in zip(queries, from_words, strict=True):
        expected = reference.search(limit=500, **query)
        assert {total for total, _ in pages} == {expected["total"]}, query
        assert [key for _, keys in pages for key in keys] == [image["key"] for image in expected["images"]], query
    assert from_words[0][0][0] == 39  # harbour: 40 images say it, 08.jpg was deleted
    index.close()
