"""The convergence rule, as a property: whatever order the upserts and deletes of a key arrive in
(and however they are batched), the index ends in the state of the event with the newest S3
sequencer — on the SQLite adapter and on the fake index the other tests use."""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
