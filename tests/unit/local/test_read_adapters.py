"""The read API's local adapters: executions by key and keyset cursor from the execution store,
dead-letter queues redriven at most once, signed URLs that expire and cover exactly what was signed."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from autotagger.errors import InvalidCursor
from autotagger.local.dlq import LocalDeadLetterQueue
from autotagger.local.read_adapters import (
    LocalDeadLetterQueueView,
    LocalExecutionLookup,
    LocalImageUrls,
    UrlRefused,
    carries_event,
    signing_secret,
)
from autotagger.local.stores import execution_detail
from autotagger.ports import DeadLetterQueue, ExecutionLookup, ImageUrls
from autotagger.workflow.store import ExecutionStore

MACHINE = "arn:aws:states:us-east-1:000000000000:stateMachine:image-tagging"
T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def arn_of(name: str) -> str:
    return f"arn:aws:states:us-east-1:000000000000:execution:image-tagging:{name}"


def run(store: ExecutionStore, name: str, key: str, seconds: int, failed: bool = False) -> None:
    execution = SimpleNamespace(arn=arn_of(name), name=name, state_machine_arn=MACHINE,
                                start_date=T0 + timedelta(seconds=seconds))
    event = {"detail-type": "Object Created", "detail": {"bucket": {"name": "image-vaults"}, "object": {"key": key}}}
    store.on_event(execution, {"id": 1, "type": "ExecutionStarted", "timestamp": execution.start_date,
                               "executionStartedEventDetails": {"input": json.dumps(event)}})
    end = ({"type": "ExecutionFailed", "executionFailedEventDetails": {"error": "E", "cause": "c"}} if failed
           else {"type": "ExecutionSucceeded", "executionSucceededEventDetails": {"output": "{}"}})
    store.on_event(execution, {"id": 2, "timestamp": execution.start_date + timedelta(seconds=1), **end})


@pytest.fixture
def store(tmp_path):
    store = ExecutionStore(tmp_path / "executions.sqlite3")
    yield store
    store.close()


def walk(lookup, **filters):
    names, cursor = [], None
    while True:
        page = lookup.list(limit=2, cursor=cursor, **filters)
        names += [e["name"] for e in page["executions"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return names


def test_GIVEN_executions_WHEN_walked_by_key_THEN_only_that_keys_runs_come_newest_first_once(store):
    for n in range(7):
        run(store, f"e{n}", f"k{n % 2}", seconds=n, failed=n == 4)
    lookup = LocalExecutionLookup(store, arn_of)

    assert isinstance(lookup, ExecutionLookup)
    assert walk(lookup, key="k0") == ["e6", "e4", "e2", "e0"]
    assert walk(lookup) == [f"e{n}" for n in reversed(range(7))]
    assert walk(lookup, status="FAILED", key="k0") == ["e4"]
    assert lookup.list(status="FAILED")["executions"][0]["error"] == "E"


def test_GIVEN_a_walk_WHEN_newer_executions_start_meanwhile_THEN_the_rest_neither_repeats_nor_shifts(store):
    for n in range(4):
        run(store, f"e{n}", "k", seconds=n)
    lookup = LocalExecutionLookup(store, arn_of)
    first = lookup.list(limit=2)
    run(store, "late", "k", seconds=100)

    second = lookup.list(limit=2, cursor=first["next_cursor"])

    assert [e["name"] for e in first["executions"] + second["executions"]] == ["e3", "e2", "e1", "e0"]


@pytest.mark.parametrize("cursor, filters", [("not-a-cursor", {}), (None, {"key": "other"})])
def test_GIVEN_a_foreign_cursor_or_other_filters_WHEN_listing_THEN_invalid_cursor(store, cursor, filters):
    for n in range(3):
        run(store, f"e{n}", "k", seconds=n)
    lookup = LocalExecutionLookup(store, arn_of)
    cursor = cursor or lookup.list(limit=1)["next_cursor"]

    with pytest.raises(InvalidCursor):
        lookup.list(limit=1, cursor=cursor, **filters)


def test_GIVEN_an_execution_WHEN_described_by_name_THEN_the_detail_shape_and_an_arn_finds_nothing(store):
    run(store, "e1", "k", seconds=0, failed=True)
    lookup = LocalExecutionLookup(store, arn_of)

    # the detail of the execution store, plus what only a backfill has (its Map Run and parent)
    assert lookup.describe("e1") == {**execution_detail(store.get(arn_of("e1"))), "map_run": None, "parent_arn": None}
    assert lookup.describe("e1")["history"][-1]["type"] == "ExecutionFailed"
    assert (lookup.describe(arn_of("e1")), lookup.describe("nope")) == (None, None)


# -- dead letters ----------------------------------------------------------------------------------

def test_GIVEN_dead_letters_WHEN_redriven_twice_THEN_each_is_resubmitted_once_and_one_without_event_is_kept(tmp_path):
    queue = LocalDeadLetterQueue(tmp_path / "dlq.sqlite3", "image-tagging-dlq")
    with_event = queue.send(json.dumps({"event": {"detail": {}}, "error": "E"}))
    without = queue.send(json.dumps({"error": "E"}))
    resubmitted = []
    view = LocalDeadLetterQueueView("workflow", queue, lambda letter: resubmitted.append(letter.message_id),
                                    carries_event)

    listed = view.list()
    first = view.redrive()
    second = view.redrive([with_event, without])

    assert isinstance(view, DeadLetterQueue)
    assert [(m.message_id, m.queue) for m in listed] == [(with_event, "workflow"), (without, "workflow")]
    assert first == {"redriven": [with_event], "not_redrivable": [without]}
    assert second == {"redriven": [], "not_redrivable": [without]}
    assert resubmitted == [with_event] and queue.get(with_event) is None and queue.get(without) is not None
    queue.close()


def test_GIVEN_a_resubmission_that_fails_WHEN_redriving_THEN_the_letter_stays(tmp_path):
    queue = LocalDeadLetterQueue(tmp_path / "dlq.sqlite3", "image-tagging-dlq")
    message_id = queue.send(json.dumps({"event": {"detail": {}}}))

    def broken(letter):
        raise RuntimeError("the runner is down")

    with pytest.raises(RuntimeError):
        LocalDeadLetterQueueView("workflow", queue, broken, carries_event).redrive()
    assert queue.get(message_id) is not None and not queue.get(message_id).in_flight
    queue.close()


# -- signed URLs -----------------------------------------------------------------------------------

class Clock:
    now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def parts(url: str):
    split = urlsplit(url)
    bucket, key = split.path.removeprefix("/v1/_local/").split("/", 1)
    return unquote(bucket), unquote(key), dict(parse_qsl(split.query))


def test_GIVEN_a_download_url_WHEN_verified_THEN_it_holds_for_its_object_until_it_expires():
    clock = Clock()
    urls = LocalImageUrls(b"k" * 32, "image-vaults", clock=clock)
    bucket, key, query = parts(urls.download_url("image-vaults", "raw-image/dog 1.jpg", 300))

    assert isinstance(urls, ImageUrls)
    assert (bucket, key) == ("image-vaults", "raw-image/dog 1.jpg")
    assert urls.verify("GET", bucket, key, query) == ("", None)
    for method, other_key in (("PUT", key), ("GET", "raw-image/cat.jpg")):
        with pytest.raises(UrlRefused):
            urls.verify(method, bucket, other_key, query)
    with pytest.raises(UrlRefused):
        LocalImageUrls(b"x" * 32, "image-vaults", clock=clock).verify("GET", bucket, key, query)
    clock.now += 300
    with pytest.raises(UrlRefused, match="expired"):
        urls.verify("GET", bucket, key, query)


def test_GIVEN_an_upload_ticket_WHEN_its_type_or_size_is_changed_in_the_url_THEN_refused():
    urls = LocalImageUrls(b"k" * 32, "image-vaults", clock=Clock())
    ticket = urls.upload("big.png", "image/png", 12_000_000, 900)
    bucket, key, query = parts(ticket["url"])

    assert urls.verify("PUT", bucket, key, query) == ("image/png", 12_000_000)
    assert ticket["expires_at"] == "2027-01-15T08:15:00.000Z"
    for change in ({"size": "1"}, {"content_type": "image/jpeg"}, {"expires": str(int(query["expires"]) + 60)}):
        with pytest.raises(UrlRefused):
            urls.verify("PUT", bucket, key, {**query, **change})


def test_GIVEN_a_data_dir_WHEN_the_secret_is_asked_twice_THEN_it_is_the_same_and_owner_only(tmp_path):
    first = signing_secret(tmp_path)

    assert signing_secret(tmp_path) == first and len(first) == 32
    assert stat.S_IMODE(os.stat(tmp_path / "url-signing.key").st_mode) == 0o600
    (tmp_path / "other").mkdir()
    assert signing_secret(tmp_path / "other") != first
