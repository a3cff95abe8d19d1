"""Bad input that never passes the HTTP API: objects put in the bucket directly or by
`autotagger tag` (zero bytes, over the workflow's 15 MB rule), malformed events on the event bus,
and malformed records on the stream. Each ends with the result a user sees (a dead letter with its
reason, a refusal, or nothing routed), and the pipeline keeps working afterwards."""

from __future__ import annotations

import base64
import json

import pytest

from autotagger.local.s3_events import object_created_event, object_deleted_event

from . import bad_inputs as make
from .conftest import settle_and_check, upload
from .fast_labeler import small_png
from .invariant import Ledger


def _letters(pipeline, queue: str = "workflow") -> list[dict]:
    return pipeline.dead_letters(limit=1000)[queue]


def test_GIVEN_a_zero_byte_object_in_the_bucket_WHEN_its_event_runs_THEN_a_dead_letter_says_it_is_empty(make_pipeline):
    pipeline, ledger = make_pipeline(), Ledger()

    upload(pipeline, ledger, "direct/zero.png", b"")

    report = settle_and_check(pipeline, ledger)
    assert report.dead_lettered == ["direct/zero.png"]
    assert _letters(pipeline)[0]["reason"]["error"] == "Autotagger.EmptyObject"


def test_GIVEN_an_empty_file_WHEN_tagged_from_the_cli_THEN_exit_2_naming_it_and_nothing_stored(tmp_path, capsys):
    from autotagger.cli import main

    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")

    code = main(["tag", str(empty), "--data-dir", str(tmp_path / "data")])

    assert code == 2 and "is empty" in capsys.readouterr().err


# -- the workflow's size rules, reachable through `autotagger tag`: over Rekognition's 15 MB is
#    normalised, over MAX_SOURCE_BYTES (64 MB) refused before any call ----------------------------

@pytest.fixture(scope="module")
def tagged_large_files(tmp_path_factory):
    """`autotagger tag --json` on a 12 MB, a 20 MB and a 65 MB PNG with the real labeler, run once."""
    from autotagger.models import cache

    if cache.problems():
        pytest.skip("local models not built: run `autotagger models build`")
    import contextlib
    import io

    from autotagger.cli import main

    folder = tmp_path_factory.mktemp("large")
    (folder / "twelve-mb.png").write_bytes(make.noise_png(12, seed=1))
    (folder / "twenty-mb.png").write_bytes(make.noise_png(20, seed=2))
    (folder / "sixty-five-mb.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * (65 * 1024 * 1024))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["tag", str(folder / "twelve-mb.png"), str(folder / "twenty-mb.png"),
                     str(folder / "sixty-five-mb.png"), "--json",
                     "--data-dir", str(folder / "data"), "--workers", "1"])
    return code, {r["key"]: r for r in json.loads(out.getvalue())}, err.getvalue()


@pytest.mark.models
def test_GIVEN_a_12_MB_png_WHEN_tagged_from_the_cli_THEN_it_is_tagged(tagged_large_files):
    _, results, _ = tagged_large_files

    assert results["twelve-mb.png"]["status"] == "tagged"


@pytest.mark.models
def test_GIVEN_a_20_MB_png_WHEN_tagged_from_the_cli_THEN_it_is_normalised_and_tagged(tagged_large_files):
    _, results, _ = tagged_large_files

    assert results["twenty-mb.png"]["status"] == "tagged"


def test_GIVEN_a_65_MB_png_WHEN_tagged_from_the_cli_THEN_it_fails_with_the_64_MB_reason_and_exit_1(tagged_large_files):
    code, results, err = tagged_large_files

    assert (code, results["sixty-five-mb.png"]["status"], results["sixty-five-mb.png"]["error"]) == \
        (1, "failed", "Autotagger.ObjectTooLarge")
    assert "67108864 bytes" in results["sixty-five-mb.png"]["cause"] and "could not be tagged" in err


def test_GIVEN_a_65_MB_object_put_in_the_bucket_WHEN_its_event_runs_THEN_the_labeler_is_never_called(
        make_pipeline, fast_labeler):
    pipeline, ledger = make_pipeline(), Ledger()

    upload(pipeline, ledger, "direct/huge.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (65 * 1024 * 1024))

    settle_and_check(pipeline, ledger)
    assert _letters(pipeline)[0]["reason"]["error"] == "Autotagger.ObjectTooLarge" and fast_labeler.calls == []


# -- malformed events ----------------------------------------------------------------------------

def _created(pipeline, key="direct/event.png"):
    stored = pipeline.stores.bucket.put(key, small_png(7))
    return object_created_event(stored, region="local", account="000000000000")


def _without(event, *path):
    *parents, last = path
    target = event
    for name in parents:
        target = target[name]
    del target[last]
    return event


@pytest.mark.parametrize("breaks, error", [
    (lambda e: _without(e, "detail", "object", "key"), "Autotagger.MalformedEvent"),
    (lambda e: _without(e, "detail", "object", "sequencer"), "Autotagger.MalformedEvent"),
    (lambda e: _without(e, "detail", "object", "size"), "Autotagger.MalformedEvent"),
    (lambda e: e["detail"]["object"].update(size="12") or e, "Autotagger.MalformedEvent"),
    (lambda e: e["detail"]["object"].update(key=["a.png"]) or e, "Autotagger.MalformedEvent"),
    (lambda e: e["detail"]["object"].update(key="direct/never-stored.png") or e, "Rekognition.InvalidS3ObjectException"),
], ids=["no-key", "no-sequencer", "no-size", "size-as-text", "key-as-list", "object-not-in-bucket"])
def test_GIVEN_a_malformed_created_event_on_the_bus_WHEN_routed_THEN_a_dead_letter_keeps_it_with_the_reason(
        make_pipeline, breaks, error):
    pipeline = make_pipeline()
    event = breaks(_created(pipeline))

    pipeline._router.publish(event)

    assert pipeline.wait_idle(timeout=30)
    letters = _letters(pipeline)
    assert len(letters) == 1 and letters[0]["reason"]["error"] == error
    assert letters[0]["body"]["event"] == event and letters[0]["reason"]["cause"]


def test_GIVEN_a_delete_event_without_a_sequencer_WHEN_routed_THEN_a_malformed_event_dead_letter(make_pipeline):
    pipeline = make_pipeline()
    stored = pipeline.stores.bucket.put("direct/del.png", small_png(8))
    event = _without(object_deleted_event(stored, region="local", account="000000000000"),
                     "detail", "object", "sequencer")

    pipeline._router.publish(event)

    assert pipeline.wait_idle(timeout=30)
    assert _letters(pipeline)[0]["reason"]["error"] == "Autotagger.MalformedEvent"


@pytest.mark.parametrize("change", [
    lambda e: e["detail"]["bucket"].update(name="someone-elses-bucket"),
    lambda e: e.update({"detail-type": "Object Restore Completed"}),
    lambda e: e.update(source="aws.ec2"),
    lambda e: e.pop("detail"),
], ids=["another-bucket", "another-detail-type", "another-source", "no-detail"])
def test_GIVEN_an_event_the_rule_does_not_match_WHEN_published_THEN_no_execution_runs(make_pipeline, change):
    pipeline = make_pipeline()
    event = _created(pipeline)
    change(event)

    assert pipeline._router.publish(event) == []

    assert pipeline.wait_idle(timeout=10) and pipeline.list_executions() == []


# -- malformed stream records -------------------------------------------------------------------

@pytest.mark.parametrize("data", [
    b"not json at all",
    b"[1, 2, 3]",
    json.dumps({"action": "upsert", "bucket": "image-vaults"}).encode(),
    json.dumps({"action": "explode", "bucket": "image-vaults", "key": "x.png", "sequencer": "01"}).encode(),
    "\u00ff\u00fe".encode("latin-1"),
], ids=["text", "json-list", "missing-fields", "unknown-action", "not-utf8"])
def test_GIVEN_a_malformed_stream_record_WHEN_consumed_THEN_it_is_an_indexer_dead_letter_and_the_next_upload_is_indexed(
        make_pipeline, data):
    pipeline, ledger = make_pipeline(consumer_options={"max_retries": 1}), Ledger()
    partition_key = "b9c0f5b6b3b5c3e3e1f4a2d5c6b7a8f9"

    pipeline.stores.stream.put_record(data, partition_key)
    upload(pipeline, ledger, "direct/after-bad-record.png", small_png(9))

    report = settle_and_check(pipeline, ledger)
    assert report.indexed == ["direct/after-bad-record.png"]
    (letter,) = _letters(pipeline, "indexer")
    assert base64.b64decode(letter["body"]["records"][0]["data"]) == data and letter["reason"]["cause"]
