"""Durable dead-letter queues: send, list, get, count, remove, and redrive without duplicates."""

from __future__ import annotations

import json

import pytest

from autotagger.local.dlq import ABOUT_OBJECT_SQL, LocalDeadLetterQueue
from autotagger.ports import DeadLetters


@pytest.fixture
def queue(tmp_path):
    q = LocalDeadLetterQueue(tmp_path / "dlq.sqlite3", "image-tagging-dlq")
    yield q
    q.close()


def test_given_a_local_queue_then_it_implements_the_dead_letters_port(queue):
    assert isinstance(queue, DeadLetters)


def test_given_a_sent_message_when_listed_then_body_attributes_and_sent_time_are_kept(queue):
    body = json.dumps({"event": {"id": "e1"}, "error": "Rekognition.InvalidImageFormatException"})

    message_id = queue.send(body, {"execution": "arn:exec:1"})

    [letter] = queue.list()
    assert letter.message_id == message_id and letter.body == body
    assert letter.attributes == {"execution": "arn:exec:1"} and letter.queue == "image-tagging-dlq"
    assert letter.sent_at.endswith("Z") and letter.receive_count == 0


def test_given_messages_when_listed_then_oldest_first_and_limited(queue):
    ids = [queue.send(json.dumps({"n": i})) for i in range(5)]

    assert [m.message_id for m in queue.list(limit=3)] == ids[:3]
    assert [m.message_id for m in queue.list(limit=3, offset=3)] == ids[3:]


def test_given_messages_sent_without_close_when_reopened_then_they_are_still_there(tmp_path):
    first = LocalDeadLetterQueue(tmp_path / "dlq.sqlite3", "q")
    message_id = first.send("{}")
    # no close(): as after a crash

    reopened = LocalDeadLetterQueue(tmp_path / "dlq.sqlite3", "q")
    assert reopened.get(message_id).body == "{}"
    reopened.close()


def test_given_two_queues_in_one_file_then_they_are_separate(tmp_path):
    a = LocalDeadLetterQueue(tmp_path / "dlq.sqlite3", "a")
    b = LocalDeadLetterQueue(tmp_path / "dlq.sqlite3", "b")
    a.send("{}")

    assert (a.count(), b.count()) == (1, 0)


def test_given_a_message_when_removed_twice_then_the_second_remove_is_a_harmless_false(queue):
    message_id = queue.send("{}")

    assert queue.remove(message_id) is True
    assert queue.remove(message_id) is False
    assert queue.count() == 0 and queue.get(message_id) is None


def test_given_a_non_string_body_when_sent_then_type_error(queue):
    with pytest.raises(TypeError):
        queue.send({"not": "json text"})


def test_given_a_claimed_message_when_claimed_again_then_nothing_is_returned(tmp_path, clock):
    q = LocalDeadLetterQueue(tmp_path / "dlq.sqlite3", "q", clock=clock)
    message_id = q.send("{}")

    first = q.claim(message_id, visibility_timeout_s=60)

    assert first.receive_count == 1 and first.in_flight
    assert q.claim(message_id) is None


def test_given_a_claim_that_lapsed_when_claimed_again_then_it_is_returned_and_counted(tmp_path, clock):
    q = LocalDeadLetterQueue(tmp_path / "dlq.sqlite3", "q", clock=clock)
    message_id = q.send("{}")
    q.claim(message_id, visibility_timeout_s=60)

    clock.now += 61

    assert q.claim(message_id).receive_count == 2


def test_given_a_message_when_redriven_twice_then_the_work_is_resubmitted_once(queue):
    message_id = queue.send(json.dumps({"event": {"id": "e1"}}))
    resubmitted = []

    assert queue.redrive(message_id, lambda letter: resubmitted.append(json.loads(letter.body)["event"])) is True
    assert queue.redrive(message_id, lambda letter: resubmitted.append(json.loads(letter.body)["event"])) is False

    assert resubmitted == [{"id": "e1"}] and queue.count() == 0


def test_given_a_redrive_whose_resubmission_fails_then_the_message_stays_visible(queue):
    message_id = queue.send("{}")

    def failing(letter):
        raise ConnectionError("engine down")

    with pytest.raises(ConnectionError):
        queue.redrive(message_id, failing)

    letter = queue.get(message_id)
    assert letter is not None and not letter.in_flight and letter.receive_count == 1


def test_given_a_redrive_in_progress_when_a_second_redrive_starts_then_it_does_nothing(queue):
    message_id = queue.send("{}")
    calls = []

    def resubmit(letter):
        calls.append(letter.message_id)
        assert queue.redrive(message_id, calls.append) is False  # the concurrent second redrive

    assert queue.redrive(message_id, resubmit) is True
    assert calls == [message_id]


def _about(bucket, key, sequencer):
    return json.dumps({"event": {"detail": {"bucket": {"name": bucket}, "object": {"key": key, "sequencer": sequencer}}},
                       "error": "Rekognition.InvalidImageFormatException"})


def test_given_letters_about_objects_when_asked_about_one_then_only_its_letters_newest_first(queue):
    first = queue.send(_about("b", "k", "01"))
    queue.send(_about("b", "other", "01"))
    second = queue.send(_about("b", "k", "02"))
    queue.send("not json")

    assert [m.message_id for m in queue.about("b", "k")] == [second, first]
    assert [m.message_id for m in queue.about("b", "k", "01")] == [first]
    assert queue.about("other-bucket", "k") == []


def test_given_two_queues_in_one_file_when_asked_about_an_object_then_each_answers_for_its_own(tmp_path, queue):
    other = LocalDeadLetterQueue(queue._db.path, "indexer-dlq")
    try:
        mine = queue.send(_about("b", "k", "01"))
        other.send(_about("b", "k", "01"))

        assert [m.message_id for m in queue.about("b", "k")] == [mine]
    finally:
        other.close()


def test_given_a_removed_letter_when_asked_about_its_object_then_it_is_gone(queue):
    message_id = queue.send(_about("b", "k", "01"))

    queue.remove(message_id)

    assert queue.about("b", "k") == []


def test_given_a_file_written_before_letters_were_indexed_by_object_when_opened_then_its_letters_are_found(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:  # the schema before dead_letter_objects, with one letter in it
        conn.executescript("""CREATE TABLE dead_letters (seq INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL,
            message_id TEXT NOT NULL UNIQUE, body TEXT NOT NULL, attributes TEXT NOT NULL, sent_at TEXT NOT NULL,
            receive_count INTEGER NOT NULL DEFAULT 0, invisible_until REAL NOT NULL DEFAULT 0);""")
        conn.execute("INSERT INTO dead_letters (queue, message_id, body, attributes, sent_at) VALUES (?, ?, ?, ?, ?)",
                     ("q", "old-1", _about("b", "k", "01"), "{}", "2026-01-01T00:00:00.000Z"))
    conn.close()

    queue = LocalDeadLetterQueue(path, "q")
    try:
        assert [m.message_id for m in queue.about("b", "k", "01")] == ["old-1"]
    finally:
        queue.close()


def test_given_many_letters_when_asked_about_an_object_then_sqlite_searches_by_object_instead_of_scanning(queue):
    for i in range(200):
        queue.send(_about("b", f"k{i}", "01"))
    queue._db.query("ANALYZE")

    plan = queue._db.query(f"EXPLAIN QUERY PLAN {ABOUT_OBJECT_SQL}", ("b", "k7", queue.name))
    steps = [row["detail"] for row in plan]

    assert not any(step.startswith("SCAN") for step in steps), steps
