"""The rules of contracts, matched by the local router: which S3 keys start the workflow, which
become a dead letter at once, and which (folder keys) do neither."""

from __future__ import annotations

import pytest

from autotagger import contracts
from autotagger.local.event_router import EventRouter
from autotagger.local.s3_events import object_created_event, object_deleted_event
from autotagger.ports import StoredObject

BUCKET = "image-vaults"


def _created(key: str, bucket: str = BUCKET) -> dict:
    obj = StoredObject(bucket=bucket, key=key, size=10, etag="0" * 32, sequencer="0001",
                       last_modified="2026-11-25T12:00:00.000Z")
    return object_created_event(obj, region=contracts.LOCAL_REGION, account=contracts.LOCAL_ACCOUNT)


def _deleted(key: str) -> dict:
    obj = StoredObject(bucket=BUCKET, key=key, size=0, etag="", sequencer="0002",
                       last_modified="2026-11-25T12:00:01.000Z")
    return object_deleted_event(obj, region=contracts.LOCAL_REGION, account=contracts.LOCAL_ACCOUNT)


def _router(key_prefix: str = "") -> EventRouter:
    router = EventRouter()
    router.add_rule("tag", contracts.tagging_rule_pattern(BUCKET, key_prefix), lambda event: None)
    router.add_rule("unsupported", contracts.unsupported_object_rule_pattern(BUCKET), lambda event: None)
    return router


@pytest.mark.parametrize("key, rules", [
    ("a/", []),                          # an S3 console "folder": nothing at all
    ("photos/2026/", []),
    ("x.txt", ["unsupported"]),          # a dead letter, no execution
    ("drawing.svg", ["unsupported"]),
    ("anim.gif", ["tag"]),               # normalised by the workflow (issue 13)
    ("IMG_0001.HEIC", ["tag"]),
    ("derivatives/" + "0" * 64, []),     # the Normalize task's output: neither rule
    ("jpg", ["unsupported"]),            # no extension, just the letters
    ("X.JPG", ["tag"]),
    ("y.JpEg", ["tag"]),
    ("dog.png", ["tag"]),
    ("a b+c%2Fé.jpeg", ["tag"]),
])
def test_given_a_created_object_when_published_then_only_image_keys_start_the_workflow(key, rules):
    assert sorted(_router().publish(_created(key))) == rules


def test_given_another_bucket_when_published_then_no_rule_matches():
    assert _router().publish(_created("x.txt", bucket="elsewhere")) == []
    assert _router().publish(_created("X.JPG", bucket="elsewhere")) == []


@pytest.mark.parametrize("key, rules", [("Dog.PNG", ["tag"]), ("x.txt", []), ("a/", [])])
def test_given_a_deleted_object_when_published_then_only_image_keys_start_the_workflow(key, rules):
    """Deleting a file that was never indexed needs no execution and is no upload to account for."""
    assert _router().publish(_deleted(key)) == rules


@pytest.mark.parametrize("key, started", [
    ("raw-image/X.JPG", True), ("raw-image/y.JpEg", True), ("raw-image/a/", False),
    ("raw-image/x.txt", False), ("other/dog.jpg", False),
])
def test_given_a_key_prefix_when_published_then_image_keys_under_it_start_the_workflow(key, started):
    assert ("tag" in _router("raw-image/").publish(_created(key))) is started


def test_given_a_prefix_with_wildcard_characters_when_matched_then_they_are_literal():
    router = EventRouter()
    router.add_rule("tag", contracts.tagging_rule_pattern(BUCKET, "a*b/"), lambda event: None)
    assert router.publish(_created("a*b/x.PNG")) == ["tag"]
    assert router.publish(_created("aXXb/x.PNG")) == []


def test_given_the_media_type_table_when_a_format_is_added_then_the_patterns_follow(monkeypatch):
    monkeypatch.setattr(contracts, "IMAGE_EXTENSIONS", (*contracts.IMAGE_EXTENSIONS, ".webp"))
    router = EventRouter()
    router.add_rule("tag", contracts.tagging_rule_pattern(BUCKET), lambda event: None)
    router.add_rule("unsupported", contracts.unsupported_object_rule_pattern(BUCKET), lambda event: None)
    assert router.publish(_created("p.WebP")) == ["tag"]


def test_given_an_unsupported_object_when_dead_lettered_then_the_letter_has_the_workflows_shape_and_reason():
    event = _created("x.txt")
    letter = contracts.unsupported_object_dead_letter(event, event["time"])
    assert (letter["event"], letter["error"], letter["execution_id"]) == (
        event, "Autotagger.UnsupportedObjectType", None)
    assert ".jpg, .jpeg, .png, .heic, .heif, .webp, .avif or .gif" in letter["cause"]
