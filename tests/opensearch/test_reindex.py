"""`autotagger reindex` on osmem-server (an OpenSearch-API server, not OpenSearch): an index made
from template version 1 moves to the current template behind an alias, without losing a document,
also when documents arrive during the copy and when a run is interrupted and started again."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest
from opensearchpy import helpers

from autotagger.domain.documents import action_from_record, parse_record
from autotagger.index import reindex as reindex_module
from autotagger.index.opensearch import OpenSearchIndex, load_template, template_name
from autotagger.index.reindex import reindex

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")]

NAME = "image_insights"
CURRENT = f"{NAME}-v{load_template(NAME)['version']}"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def upsert(key, sequencer, labels=(("Dog", 97.0),), event_time="2026-11-25T12:00:00Z", indexed_at=NOW):
    record = {"action": "upsert", "bucket": "b", "key": key, "size": 1, "etag": "e", "sequencer": sequencer,
              "event_time": event_time, "labels": [{"Name": n, "Confidence": c} for n, c in labels]}
    return action_from_record(parse_record(record), indexed_at)


def delete(key, sequencer):
    record = {"action": "delete", "bucket": "b", "key": key, "sequencer": sequencer, "event_time": "2026-11-25T12:30:00Z"}
    return action_from_record(parse_record(record), NOW)


def version_1_template():
    """The released template version 1: tags and label names only as written, no normalizer."""
    template = copy.deepcopy(load_template(NAME))
    template["version"] = 1
    settings, mappings = template["template"]["settings"], template["template"]["mappings"]
    del settings["analysis"], mappings["_meta"]
    del mappings["properties"]["tags"]["fields"], mappings["properties"]["labels"]["properties"]["name"]["fields"]
    for name in ("text", "text_words", "moderation", "analysis_errors"):  # template version 3's fields
        del mappings["properties"][name]
    return template


def everything(client, index):
    return {hit["_id"]: hit["_source"] for hit in helpers.scan(client, index=index, query={"query": {"match_all": {}}})}


@pytest.fixture
def old_index(osmem_clone):
    """An `image_insights` index made by the version-1 template, with 130 images and a tombstone."""
    index = OpenSearchIndex.from_url(osmem_clone.url, refresh=True)
    index.client.indices.put_index_template(name=template_name(NAME), body=version_1_template())
    index.client.indices.create(index=NAME)
    actions = [upsert(f"{n:03d}.jpg", f"{n + 1:04X}", (("Dog", 90.0),) if n % 2 else (("Cat", 90.0),),
                      f"2026-11-{1 + n % 20:02d}T12:00:00Z") for n in range(130)]
    assert {r["status"] for r in index.apply(actions)} == {"applied"}
    assert index.apply([delete("007.jpg", "0FFF")])[0]["status"] == "applied"
    yield index
    index.close()


def test_given_a_version_1_index_when_searched_then_tags_match_as_written_until_it_is_reindexed(old_index):
    assert old_index.search(tags=["Dog"], limit=0)["total"] == 64  # 007.jpg, a dog, was deleted
    assert old_index.search(tags=["dog"], limit=0)["total"] == 0


def test_given_a_version_1_index_when_reindexed_then_every_document_moves_behind_the_alias_and_tags_match_in_any_case(
        old_index):
    client = old_index.client
    before = everything(client, NAME)
    result = reindex(client, NAME)
    assert (result.status, result.index, result.previous) == ("moved", CURRENT, NAME)
    assert client.indices.get_alias(name=NAME) == {CURRENT: {"aliases": {NAME: {}}}}
    assert everything(client, NAME) == before and len(before) == 130
    fresh = OpenSearchIndex(client, NAME, refresh=True)
    assert fresh.search(tags=["dog"], limit=0)["total"] == fresh.search(tags=["DOG"], limit=0)["total"] == 64
    assert fresh.tag_counts() == [{"tag": "Cat", "count": 65}, {"tag": "Dog", "count": 64}]
    assert fresh.apply([upsert("new.jpg", "2000")])[0]["status"] == "applied"
    assert fresh.get(upsert("new.jpg", "2000")["id"])["key"] == "new.jpg"
    again = reindex(client, NAME)
    assert (again.status, again.index) == ("current", CURRENT)
    assert len(everything(client, NAME)) == 131


def test_given_images_indexed_during_the_copy_when_reindexed_then_the_catch_up_copies_them(old_index, monkeypatch):
    client = old_index.client
    now = datetime.now(UTC)  # the indexer stamps indexed_at with its clock
    late = [upsert("late.jpg", "3000", indexed_at=now), upsert("000.jpg", "3001", labels=(("Bird", 99.0),), indexed_at=now)]

    def progress(message):
        if message.startswith("copied") and "since" not in message:  # after the first copy, before the block
            assert {r["status"] for r in old_index.apply(late)} == {"applied"}

    reindex(client, NAME, progress=progress)
    moved = OpenSearchIndex(client, NAME, refresh=True)
    assert moved.get(late[0]["id"])["key"] == "late.jpg"
    assert moved.get(late[1]["id"])["tags"] == ["Bird"]
    assert len(everything(client, NAME)) == 131


def test_given_a_run_interrupted_after_the_write_block_when_run_again_then_it_finishes(old_index, monkeypatch):
    client = old_index.client
    before = everything(client, NAME)
    real_copy, calls = reindex_module._copy, []

    def copy_then_fail(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise ConnectionError("network gone during the catch-up")
        return real_copy(*args, **kwargs)

    monkeypatch.setattr(reindex_module, "_copy", copy_then_fail)
    with pytest.raises(ConnectionError):
        reindex(client, NAME)
    # The old index is blocked meanwhile: the indexer's writes fail as retryable errors, none is lost.
    assert old_index.apply([upsert("blocked.jpg", "4000")])[0]["status"] == "error"
    monkeypatch.setattr(reindex_module, "_copy", real_copy)
    assert reindex(client, NAME).status == "moved"
    assert everything(client, NAME) == before
    assert OpenSearchIndex(client, NAME, refresh=True).apply([upsert("blocked.jpg", "4000")])[0]["status"] == "applied"


def test_given_the_cli_when_reindex_runs_against_an_endpoint_then_it_reports_the_move_and_then_nothing_to_do(
        old_index, osmem_clone, capsys):
    from autotagger.cli import main

    assert main(["reindex", "--endpoint", osmem_clone.url]) == 0
    assert f"moved: {NAME} -> {CURRENT} (130 documents moved, {NAME} deleted)" in capsys.readouterr().out
    assert main(["reindex", "--endpoint", osmem_clone.url]) == 0
    assert f"current: {NAME} -> {CURRENT}" in capsys.readouterr().out


def test_given_an_index_behind_the_alias_when_the_template_version_rises_then_the_alias_moves_to_the_next_index(
        old_index, monkeypatch):
    client = old_index.client
    reindex(client, NAME)
    before = everything(client, NAME)

    following = load_template(NAME)["version"] + 1
    upcoming = f"{NAME}-v{following}"

    def next_version(index_name=NAME):
        template = copy.deepcopy(load_template(index_name))
        template["version"] = template["template"]["mappings"]["_meta"]["template_version"] = following
        return template

    monkeypatch.setattr(reindex_module, "load_template", next_version)
    result = reindex(client, NAME)
    assert (result.status, result.index, result.previous, result.documents) == ("moved", upcoming, CURRENT, 130)
    assert client.indices.get_alias(name=NAME) == {upcoming: {"aliases": {NAME: {}}}}
    assert not client.indices.exists(index=CURRENT)
    assert everything(client, NAME) == before
    assert reindex(client, NAME).status == "current"


def test_given_an_index_of_an_older_template_when_first_used_then_the_analyses_fields_are_added_without_a_reindex(
        old_index):
    """The fields of template version 3 are new top-level fields: an additive mapping update before
    the first document carrying them, so text and safe searches work on the old index at once."""
    client = old_index.client
    mapping = next(iter(client.indices.get_mapping(index=NAME).values()))["mappings"]["properties"]
    assert {"text", "moderation", "analysis_errors"} <= set(mapping)  # added when old_index first wrote
    sign = upsert("sign.jpg", "5000")
    sign["document"].update(text="HARBOUR", moderation={"labels": [], "max_confidence": 0.0})
    flagged = upsert("flagged.jpg", "5001")
    flagged["document"].update(text="Harbour", moderation={"labels": [], "max_confidence": 99.0})
    assert {r["status"] for r in old_index.apply([sign, flagged])} == {"applied"}
    assert {i["key"] for i in old_index.search(text="harbour")["images"]} == {"sign.jpg", "flagged.jpg"}
    assert [i["key"] for i in old_index.search(text="harbour", safe=True)["images"]] == ["sign.jpg"]
    assert old_index.analysis_counts() == {"flagged": 1, "analysis_errors": 0}


def test_given_an_older_index_and_a_role_that_cannot_update_mappings_when_read_then_it_answers_and_a_writer_fails(
        osmem_clone, monkeypatch, caplog):
    """The read API's role may not update mappings: it answers from the index as it stands (no
    document in it has the new fields yet); the indexer's role may, and must before it writes."""
    from opensearchpy.exceptions import AuthorizationException

    reader = OpenSearchIndex.from_url(osmem_clone.url, refresh=True)
    reader.client.indices.put_index_template(name=template_name(NAME), body=version_1_template())
    reader.client.indices.create(index=NAME)

    def refused(*args, **kwargs):
        raise AuthorizationException(403, "security_exception", {"error": "no permissions for indices:admin/mapping/put"})

    monkeypatch.setattr(reader.client.indices, "put_mapping", refused)
    assert reader.search(text="harbour", safe=True) == {"total": 0, "images": [], "next_cursor": None}
    assert "cannot add them" in caplog.text
    writer = OpenSearchIndex.from_url(osmem_clone.url, refresh=True)
    monkeypatch.setattr(writer.client.indices, "put_mapping", refused)
    assert writer.apply([upsert("a.jpg", "01")])[0]["status"] == "error"  # retried later, never written unsearchable
    reader.close()
    writer.close()
