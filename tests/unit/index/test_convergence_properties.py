"""The convergence rule, as a property: whatever order the upserts and deletes of a key arrive in
(and however they are batched), the index ends in the state of the event with the newest S3
sequencer — on the SQLite adapter and on the fake index the other tests use. With re-tags (the
backfill's records, which carry no sequencer) among them, a re-tag never beats a newer upload or a
delete and relabels the document of its own ETag. The same properties on the OpenSearch adapter:
tests/opensearch/test_convergence_opensearch.py."""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autotagger.contracts import RETAG_SEQUENCER
from autotagger.domain.documents import action_from_record, document_id, parse_record, sequencer_key
from autotagger.index.sqlite import SQLiteIndex
from tests.fakes import FakeImageIndex

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
KEYS = ("photos/a.jpg", "photos/b.jpg")


@contextmanager
def sqlite_index():
    with tempfile.TemporaryDirectory() as directory:
        index = SQLiteIndex(Path(directory) / "index.sqlite3")
        try:
            yield index
        finally:
            index.close()


@contextmanager
def fake_index():
    yield FakeImageIndex()


def action(key: str, kind: str, sequencer: str, tag: str, hour: int) -> dict:
    record = {"action": kind, "bucket": "b", "key": key, "sequencer": sequencer,
              "event_time": f"2026-11-25T{hour:02d}:00:00Z"}
    if kind == "upsert":
        record.update(size=1, etag="e", labels=[{"Name": tag, "Confidence": 90.0}])
    return action_from_record(parse_record(record), NOW)


# Distinct sequencers per key (two events with one sequencer are one S3 event), of varied widths so the
# rule's left-padding matters: "0F" is older than "100".
events = st.lists(
    st.tuples(st.sampled_from(KEYS), st.sampled_from(["upsert", "delete"]), st.integers(1, 5000),
              st.sampled_from(["Dog", "Cat", "Tree"]), st.integers(0, 23)),
    min_size=1, max_size=8, unique_by=lambda e: (e[0], e[2]),
).map(lambda drawn: [action(key, kind, f"{n:0{n % 3 + 1}X}", tag, hour) for key, kind, n, tag, hour in drawn])


def expected_state(actions: list[dict]) -> dict[str, dict | None]:
    """Per key: the document of its newest event, None when that is a delete (or it has none)."""
    state = {}
    for key in KEYS:
        mine = [a for a in actions if a["id"] == document_id("b", key)]
        newest = max(mine, key=lambda a: sequencer_key(a["sequencer"]), default=None)
        state[key] = newest["document"] if newest and newest["action"] == "upsert" else None
    return state


def state_of(index) -> dict[str, dict | None]:
    return {key: index.get(document_id("b", key)) for key in KEYS}


@pytest.mark.parametrize("open_index", [sqlite_index, fake_index], ids=["sqlite", "fake"])
def test_GIVEN_upserts_and_deletes_in_any_order_and_batching_WHEN_applied_THEN_the_newest_event_wins(open_index):
    @settings(max_examples=60, deadline=None)
    @given(events, st.data())
    def converges(actions, data):
        order = data.draw(st.permutations(actions))
        cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(order) - 1)), max_size=3)))
        batches = [order[i:j] for i, j in zip([0, *cuts], [*cuts, len(order)], strict=True) if order[i:j]]
        with open_index() as index:
            for batch in batches:
                assert {r["status"] for r in index.apply(batch)} <= {"applied", "stale"}

            expected = expected_state(actions)
            assert state_of(index) == expected
            assert index.count() == sum(doc is not None for doc in expected.values())
            assert index.search(limit=10)["total"] == index.count()

    converges()


# -- re-tags ---------------------------------------------------------------------------------------
#
# A re-tag is a record the backfill (or `reprocess`) makes for an object it listed: labels of the
# object's bytes as they were at that moment, with the re-tag sequencer and the ETag the listing
# gave. Histories below are per key: S3 events (uploads of one of a few ETags, so the same bytes come
# back, and deletes) with rising sequencers, and listings taken between them; every record is one tag
# of its own, so the labels a document ends with name the record they came from.

ETAGS = ("e1", "e2", "e3")


@st.composite
def histories(draw) -> list[dict]:
    actions = []
    for key in KEYS:
        kinds = draw(st.lists(st.sampled_from(["delete", *ETAGS]), max_size=4))
        numbers = sorted(draw(st.sets(st.integers(1, 5000), min_size=len(kinds), max_size=len(kinds))))
        events = []
        for n, kind in zip(numbers, kinds, strict=True):
            record = {"action": "delete" if kind == "delete" else "upsert", "bucket": "b", "key": key,
                      "sequencer": f"{n:0{n % 3 + 1}X}", "event_time": f"2026-11-25T{n % 24:02d}:00:00Z"}
            if kind != "delete":
                record.update(size=1, etag=kind, labels=[{"Name": f"S3-{key}-{n}", "Confidence": 90.0}])
            events.append(record)
        for listed in draw(st.lists(st.integers(0, len(events)), max_size=3)):
            current = events[listed - 1] if listed else None
            if current is not None and current["action"] == "upsert":
                events.append({**current, "sequencer": RETAG_SEQUENCER, "event_time": "2026-11-27T09:00:00Z",
                               "etag": f'"{current["etag"]}"',  # quoted, as ListObjectsV2 gives it
                               "labels": [{"Name": f"Retag-{key}-{len(events)}", "Confidence": 80.0}]})
        actions += [action_from_record(parse_record(record), NOW) for record in events]
    return actions


def is_retag_action(action: dict) -> bool:
    return sequencer_key(action["sequencer"]) == sequencer_key(RETAG_SEQUENCER)


def newest_event(arrived: list[dict], key: str) -> dict | None:
    events = [a for a in arrived if a["id"] == document_id("b", key) and not is_retag_action(a)]
    return max(events, key=lambda a: sequencer_key(a["sequencer"]), default=None)


def check_identity(index, arrived: list[dict]) -> None:
    """After any batch: the document is the newest S3 event's that arrived (its sequencer, ETag and
    time, or gone after a delete), whatever re-tags came; before any S3 event only a re-tag's."""
    for key in KEYS:
        document, newest = index.get(document_id("b", key)), newest_event(arrived, key)
        if newest is None:
            assert document is None or is_retag_action(document)
        elif newest["action"] == "delete":
            assert document is None, f"{key}: a re-tag resurrected a deleted image"
        else:
            expected = {name: newest["document"][name] for name in ("sequencer", "etag", "event_time")}
            assert {name: document[name] for name in expected} == expected, f"{key}: a re-tag beat a newer event"


def expected_tags(order: list[dict], key: str) -> list[str] | None:
    """The newest S3 event's labels, or those of the last re-tag of its ETag that arrived after it."""
    newest = newest_event(order, key)
    if newest is None or newest["action"] == "delete":
        return None
    winner = newest
    for action in order[order.index(newest) + 1:]:
        if action["id"] == newest["id"] and is_retag_action(action) and \
                action["document"]["etag"].strip('"') == newest["document"]["etag"]:
            winner = action
    return winner["document"]["tags"]


def retags_converge(open_index, examples: int):
    @settings(max_examples=examples, deadline=None)
    @given(histories(), st.data())
    def converges(actions, data):
        order = data.draw(st.permutations(actions))
        cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(order) - 1)), max_size=3)))
        batches = [order[i:j] for i, j in zip([0, *cuts], [*cuts, len(order)], strict=True) if order[i:j]]
        with open_index() as index:
            arrived: list[dict] = []
            for batch in batches:
                assert {r["status"] for r in index.apply(batch)} <= {"applied", "stale"}
                arrived += batch
                check_identity(index, arrived)
            for key in KEYS:
                document = index.get(document_id("b", key))
                assert (document and document["tags"]) == expected_tags(order, key) or (
                    document is None and expected_tags(order, key) is None)
            assert index.count() == sum(index.get(document_id("b", key)) is not None for key in KEYS)

    converges()


@pytest.mark.parametrize("open_index", [sqlite_index, fake_index], ids=["sqlite", "fake"])
def test_GIVEN_retags_among_uploads_and_deletes_WHEN_applied_in_any_order_THEN_a_retag_only_relabels_its_etag(
        open_index):
    retags_converge(open_index, 80)
