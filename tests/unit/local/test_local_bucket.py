"""The bucket on disk: keys are data, metadata like S3's, durable sequencer, dedup and GC."""

from __future__ import annotations

import hashlib
import threading

import pytest

from autotagger.local.bucket import InvalidObjectKey, LocalBucket, NoSuchKey
from autotagger.ports import ObjectStore


@pytest.fixture
def bucket(tmp_path):
    b = LocalBucket(tmp_path, "image-vaults")
    yield b
    b.close()


def test_given_a_local_bucket_then_it_implements_the_object_store_port(bucket):
    assert isinstance(bucket, ObjectStore)


@pytest.mark.parametrize("key", ["../x", "../../etc/passwd", "/abs/path", "a b+c%20d", "ünïcödé/ключ", "🐶/🐱.jpg",
                                 "dir/", ".", "..", "a\\b", "with\nnewline"])
def test_given_a_path_like_or_unusual_key_when_put_then_it_is_stored_as_data_inside_the_data_dir(tmp_path, bucket, key):
    bucket.put(key, b"payload-" + key.encode())

    assert bucket.get(key) == b"payload-" + key.encode()
    assert [o.key for o in bucket.list()] == [key]
    blob = hashlib.sha256(b"payload-" + key.encode()).hexdigest()
    files = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert {f for f in files if not f.startswith("bucket.sqlite3")} == {f"objects/{blob}"}


def test_given_a_key_of_exactly_1024_utf8_bytes_when_put_then_it_is_accepted(bucket):
    key = "é" * 512  # 2 bytes each in UTF-8

    bucket.put(key, b"x")

    assert bucket.head(key).size == 1


def test_given_a_key_of_1025_utf8_bytes_when_put_then_invalid_key_error_names_the_limit(bucket):
    key = "é" * 512 + "a"

    with pytest.raises(InvalidObjectKey, match="1025 bytes.*1024") as err:
        bucket.put(key, b"x")
    assert isinstance(err.value, ValueError)
    assert err.value.code == "KeyTooLongError"


@pytest.mark.parametrize("key", ["", "bad\ud800surrogate"])
def test_given_an_empty_or_non_utf8_key_when_put_then_invalid_key_error(bucket, key):
    with pytest.raises(InvalidObjectKey):
        bucket.put(key, b"x")


def test_given_an_object_when_head_then_metadata_is_like_s3s(bucket):
    data = b"\x89PNG fake image"

    stored = bucket.put("raw-image/dog.png", data, content_type="image/png")

    head = bucket.head("raw-image/dog.png")
    assert head == stored
    assert head.bucket == "image-vaults" and head.size == len(data) and head.content_type == "image/png"
    assert head.etag == hashlib.md5(data).hexdigest()
    assert head.last_modified.endswith("Z")


def test_given_no_object_when_get_then_no_such_key_which_is_a_key_error(bucket):
    with pytest.raises(NoSuchKey):
        bucket.get("missing")
    assert issubclass(NoSuchKey, KeyError)


def test_given_no_object_when_delete_then_none(bucket):
    assert bucket.delete("missing") is None


def test_given_an_object_when_deleted_then_it_is_gone_and_the_delete_has_a_newer_sequencer(bucket):
    put = bucket.put("k", b"data")

    deleted = bucket.delete("k")

    assert deleted.key == "k" and int(deleted.sequencer, 16) > int(put.sequencer, 16)
    assert bucket.head("k") is None


def test_given_puts_and_deletes_across_reopen_then_sequencers_strictly_increase(tmp_path):
    frozen_clock = lambda: 1_700_000_000.0  # noqa: E731 - a clock that never moves
    seen = []
    for _ in range(3):
        with LocalBucket(tmp_path, "b", clock=frozen_clock) as b:
            seen.append(b.put("k", b"v").sequencer)
            seen.append(b.delete("k").sequencer)

    as_ints = [int(s, 16) for s in seen]
    assert as_ints == sorted(as_ints) and len(set(as_ints)) == len(as_ints)
    assert all(len(s) == len(seen[0]) for s in seen)


def test_given_same_content_under_two_keys_then_one_blob_is_stored(bucket):
    bucket.put("a", b"same")
    bucket.put("b", b"same")

    assert bucket.blob_count() == 1


def test_given_shared_content_when_one_key_is_deleted_then_the_blob_stays_for_the_other(bucket):
    bucket.put("a", b"same")
    bucket.put("b", b"same")

    bucket.delete("a")

    assert bucket.get("b") == b"same"


def test_given_the_last_reference_deleted_then_the_blob_is_collected(bucket):
    bucket.put("a", b"only")

    bucket.delete("a")

    assert bucket.blob_count() == 0


def test_given_an_object_overwritten_with_new_content_then_the_old_blob_is_collected(bucket):
    bucket.put("a", b"old")

    bucket.put("a", b"new")

    assert bucket.get("a") == b"new"
    assert [p.name for p in bucket.objects_dir.iterdir()] == [hashlib.sha256(b"new").hexdigest()]


def test_given_a_blob_left_by_a_crash_before_commit_when_reopened_then_it_is_collected(tmp_path):
    with LocalBucket(tmp_path, "b") as b:
        b.put("kept", b"kept")
    orphan = tmp_path / "objects" / hashlib.sha256(b"orphan").hexdigest()
    orphan.write_bytes(b"orphan")

    with LocalBucket(tmp_path, "b") as b:
        assert not orphan.exists()
        assert b.get("kept") == b"kept"


def test_given_objects_when_reopened_then_they_are_still_there(tmp_path):
    b = LocalBucket(tmp_path, "b")
    b.put("k", b"durable")
    # no close(): as after a crash

    with LocalBucket(tmp_path, "b") as reopened:
        assert reopened.get("k") == b"durable"


def test_given_concurrent_put_and_delete_of_the_same_content_then_surviving_objects_are_readable(bucket):
    errors = []

    def churn(key):
        try:
            for _ in range(30):
                bucket.put(key, b"shared content")
                bucket.delete(key)
            bucket.put(key, b"shared content")
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=churn, args=(f"k{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert all(bucket.get(f"k{i}") == b"shared content" for i in range(4))
    assert bucket.blob_count() == 1


def test_given_two_buckets_in_one_data_dir_then_their_keys_are_separate(tmp_path):
    with LocalBucket(tmp_path, "one") as one, LocalBucket(tmp_path, "two") as two:
        one.put("k", b"1")
        two.put("k", b"2")
        one.delete("k")

        assert two.get("k") == b"2" and one.head("k") is None


def test_given_keys_when_listed_with_a_prefix_then_only_those_in_byte_order(bucket):
    for key in ["raw-image/b.jpg", "raw-image/a.jpg", "raw-imagex", "other/c.jpg", "raw-image/é.jpg"]:
        bucket.put(key, key.encode())

    assert [o.key for o in bucket.list("raw-image/")] == ["raw-image/a.jpg", "raw-image/b.jpg", "raw-image/é.jpg"]
