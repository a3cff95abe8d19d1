"""What `ImageIndex.search` promises, checked with the same cases on both adapters: SQLite and the
OpenSearch adapter on osmem-server (an OpenSearch-API server, not OpenSearch itself).

Case-insensitive tags shown as written, every tag must match, confidence and time filters, limit
bounds, and cursor walks: stable order (newest first, ties by id), no image twice, none left out,
also while images are indexed during the walk.

What osmem-server 0.1.6 can and cannot show here: it honours the template's `normalizer` and
multi-fields (`tags.folded` matches any case), but its terms aggregation on a normalized keyword
field answers with the values as written, where OpenSearch answers with the normalized terms. So
keeping `tags` itself un-normalized (aggregations as written) rests on OpenSearch's documentation,
not on these tests.
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autotagger.contracts import MODERATION_THRESHOLD, RETAG_SEQUENCER
from autotagger.domain.documents import action_from_record, document_id, format_time, parse_record
from autotagger.errors import InvalidCursor
from autotagger.index.opensearch import OpenSearchIndex
from autotagger.index.query import MAX_LIMIT, encode_cursor
from autotagger.index.sqlite import SQLiteIndex

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore:No application metrics:UserWarning")]

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
START = datetime(2026, 11, 1, tzinfo=UTC)
_sequencers = itertools.count(0x1000)


def upsert(key, labels=(("Dog", 97.0),), event_time=START, *, text=None, moderation=None, errors=None):
    """`text`: the LINEs DetectText found ([] none; None: not analysed); `moderation`: the highest
    moderation label's confidence (0: analysed, no label; None: not analysed)."""
    record = {"action": "upsert", "bucket": "b", "key": key, "size": 1, "etag": "e",
              "sequencer": f"{next(_sequencers):06X}", "event_time": format_time(event_time),
              "labels": [{"Name": name, "Confidence": confidence} for name, confidence in labels]}
    if text is not None:
        record["text"] = {"TextDetections": [{"DetectedText": line, "Type": "LINE", "Id": n, "Confidence": 99.0}
                                             for n, line in enumerate(text)], "TextModelVersion": "3.0"}
    if moderation is not None:
        labels = [{"Name": "Violence", "ParentName": "", "TaxonomyLevel": 1, "Confidence": moderation}] if moderation else []
        record["moderation"] = {"ModerationLabels": labels, "ModerationModelVersion": "7.0"}
    if errors is not None:
        record["analysis_errors"] = [{"analysis": name, "error": "Rekognition.ThrottlingException", "cause": "Rate"}
                                     for name in errors]
    return action_from_record(parse_record(record), NOW)


@pytest.fixture(scope="module")
def cluster(osmem_server):
    clone = osmem_server.clone()
    yield clone
    clone.close()


@pytest.fixture(params=["sqlite", "opensearch"])
def new_index(request, tmp_path, cluster):
    """A factory of empty indexes of one adapter (several per test for Hypothesis' examples)."""
    made = []
    names = itertools.count()

    def make():
        if request.param == "sqlite":
            index = SQLiteIndex(tmp_path / f"index-{next(names)}.db")
        else:
            index = OpenSearchIndex.from_url(cluster.url, index_name=f"semantics-{id(made)}-{next(names)}",
                                             refresh=True)
        made.append(index)
        return index

    yield make
    for index in made:
        index.close()


def load(index, actions, batch=200):
    for start in range(0, len(actions), batch):
        assert {r["status"] for r in index.apply(actions[start:start + batch])} == {"applied"}


def keys(result):
    return [image["key"] for image in result["images"]]


def walk(index, limit, **query):
    """Every page of a search by cursor: [(total, keys, next_cursor), ...]."""
    pages, cursor = [], None
    while True:
        found = index.search(limit=limit, cursor=cursor, **query)
        pages.append((found["total"], keys(found), found["next_cursor"]))
        cursor = found["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 10_000, "the walk does not end"


def expected_order(actions):
    """Newest first, ties by id (descending): the order both adapters promise."""
    documents = [action["document"] for action in actions]
    return [d["key"] for d in sorted(documents, key=lambda d: (d["event_time"], d["id"]), reverse=True)]


def test_given_tags_as_rekognition_writes_them_when_searched_in_any_case_then_they_match_and_show_as_written(new_index):
    index = new_index()
    load(index, [upsert("dog.jpg", (("Dog", 97.0), ("Mammal", 97.0))), upsert("cat.jpg", (("Cat", 90.0),))])
    for spelling in ("Dog", "dog", "DOG", "dOg"):
        found = index.search(tags=[spelling])
        assert (found["total"], keys(found)) == (1, ["dog.jpg"])
        assert found["images"][0]["tags"] == ["Dog", "Mammal"]
    assert {row["tag"] for row in index.tag_counts()} == {"Dog", "Mammal", "Cat"}


def test_given_one_tag_in_two_spellings_when_searched_then_both_match_and_counts_keep_each_spelling(new_index):
    index = new_index()
    load(index, [upsert("a.jpg", (("Dog", 97.0),), START), upsert("b.jpg", (("DOG", 80.0), ("Ball", 70.0)), START + timedelta(hours=1)),
                 upsert("c.jpg", (("Cat", 90.0),), START + timedelta(hours=2))])
    assert keys(index.search(tags=["dog"])) == ["b.jpg", "a.jpg"]
    assert keys(index.search(tags=["dog", "ball"])) == ["b.jpg"]
    assert keys(index.search(tags=["dog"], min_confidence=90)) == ["a.jpg"]
    assert keys(index.search(tags=["dog"], limit=1, cursor=index.search(tags=["dog"], limit=1)["next_cursor"])) == ["a.jpg"]
    assert index.tag_counts() == [{"tag": "Ball", "count": 1}, {"tag": "Cat", "count": 1},
                                  {"tag": "DOG", "count": 1}, {"tag": "Dog", "count": 1}]


def test_given_several_tags_when_searched_then_only_images_with_every_tag_match(new_index):
    index = new_index()
    load(index, [upsert("both.jpg", (("Dog", 90.0), ("Ball", 80.0)), START + timedelta(hours=2)),
                 upsert("dog.jpg", (("Dog", 90.0),), START + timedelta(hours=1)),
                 upsert("ball.jpg", (("Ball", 90.0),), START)])
    assert keys(index.search(tags=["dog", "BALL"])) == ["both.jpg"]
    assert keys(index.search(tags=["Dog", "dog"])) == ["both.jpg", "dog.jpg"]  # one tag given twice
    assert index.search(tags=["dog", "ball", "cat"]) == {"total": 0, "images": [], "next_cursor": None}


@pytest.mark.parametrize("min_confidence, expected", [(0, ["high.jpg", "mid.jpg", "low.jpg"]), (60, ["high.jpg", "mid.jpg"]),
                                                      (90, ["high.jpg"]), (99, [])])
def test_given_labels_of_several_confidences_when_searched_with_a_floor_then_only_those_at_or_above_it_match(
        new_index, min_confidence, expected):
    index = new_index()
    load(index, [upsert("low.jpg", (("Dog", 56.0),), START), upsert("mid.jpg", (("Dog", 75.0),), START + timedelta(hours=1)),
                 upsert("high.jpg", (("Dog", 95.0),), START + timedelta(hours=2))])
    assert keys(index.search(tags=["dog"], min_confidence=min_confidence)) == expected
    assert keys(index.search(min_confidence=min_confidence)) == expected


def test_given_a_time_range_when_searched_then_since_is_inclusive_and_until_exclusive(new_index):
    index = new_index()
    load(index, [upsert(f"{hour}.jpg", event_time=START + timedelta(hours=hour)) for hour in range(5)])
    since, until = format_time(START + timedelta(hours=1)), format_time(START + timedelta(hours=3))
    assert keys(index.search(since=since, until=until)) == ["2.jpg", "1.jpg"]
    assert keys(index.search(tags=["dog"], since=since, until=until)) == ["2.jpg", "1.jpg"]
    assert [page[1] for page in walk(index, 1, tags=["DOG"], since=since)] == [["4.jpg"], ["3.jpg"], ["2.jpg"], ["1.jpg"]]


def test_given_limits_offsets_and_cursors_when_out_of_bounds_or_malformed_then_the_search_says_what_is_wrong(new_index):
    index = new_index()
    load(index, [upsert(f"{n}.jpg", event_time=START + timedelta(minutes=n)) for n in range(3)])
    assert keys(index.search(limit=MAX_LIMIT)) == ["2.jpg", "1.jpg", "0.jpg"]
    assert index.search(limit=0) == {"total": 3, "images": [], "next_cursor": None}
    for bad in ({"limit": MAX_LIMIT + 1}, {"limit": -1}, {"offset": -1}, {"min_confidence": float("nan")},
                {"offset": 1, "cursor": encode_cursor((0, "a"))}, {"tags": "dog"}):
        with pytest.raises(ValueError):
            index.search(**bad)
    for garbled in ("", "not a cursor!", "bm90IGpzb24", encode_cursor((0, "a"))[:-3], "W10", "WzEsMl0",
                    "x" * 600, "WyIxIiwiYSJd"):
        with pytest.raises(InvalidCursor):
            index.search(cursor=garbled)
    assert issubclass(InvalidCursor, ValueError)


def test_given_an_offset_page_when_its_cursor_is_followed_then_the_walk_goes_on_where_the_page_ended(new_index):
    index = new_index()
    load(index, [upsert(f"{n}.jpg", event_time=START + timedelta(minutes=n // 2)) for n in range(9)])
    everything = keys(index.search(limit=20))
    page = index.search(limit=3, offset=2)
    assert keys(page) == everything[2:5]
    assert keys(index.search(limit=20, cursor=page["next_cursor"])) == everything[5:]


def test_given_1200_images_with_shared_times_when_walked_by_cursor_then_each_comes_once_in_order(new_index):
    index = new_index()
    rng = random.Random(5)
    actions = [upsert(f"{n:04d}.jpg", (("Dog", 90.0),) if n % 3 else (("Cat", 90.0),),
                      START + timedelta(minutes=rng.randrange(300))) for n in range(1200)]
    load(index, actions)
    pages = walk(index, 97)
    assert {total for total, _, _ in pages} == {1200}
    assert [key for _, page, _ in pages for key in page] == expected_order(actions)
    assert [len(page) for _, page, _ in pages] == [97] * 12 + [36]
    dogs = [a for a in actions if "Dog" in a["document"]["tags"]]
    assert [key for _, page, _ in walk(index, 250, tags=["dog"]) for key in page] == expected_order(dogs)


def test_given_a_walk_when_images_are_indexed_between_its_pages_then_no_image_repeats_and_none_is_skipped(new_index):
    index = new_index()
    rng = random.Random(8)
    original = [upsert(f"old-{n:03d}.jpg", event_time=START + timedelta(minutes=rng.randrange(1000))) for n in range(400)]
    load(index, original)
    seen, cursor, added = [], None, []
    while True:
        found = index.search(tags=["dog"], limit=40, cursor=cursor)
        seen += keys(found)
        cursor = found["next_cursor"]
        if cursor is None:
            break
        # New uploads between two pages: newer than everything, and older ones at random times.
        fresh = [upsert(f"new-{len(added) + i:03d}.jpg", event_time=START + timedelta(minutes=rng.randrange(-100, 1100)))
                 for i in range(10)] + [upsert(f"newest-{len(added)}.jpg", event_time=NOW)]
        load(index, fresh)
        added += fresh
    assert len(seen) == len(set(seen))
    assert set(seen) >= {a["document"]["key"] for a in original}
    assert not any(key.startswith("newest-") for key in seen)  # behind the cursor from the first page on
    assert seen == sorted(seen, key=expected_order(original + added).index)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(minutes=st.lists(st.integers(0, 5), max_size=30), limit=st.integers(1, 7), data=st.data())
def test_given_any_images_when_walked_by_cursor_then_the_pages_join_up_to_the_whole_ordered_result(
        new_index, minutes, limit, data):
    index = new_index()
    tagged = [data.draw(st.sampled_from([("Dog",), ("dog", "Ball"), ("Ball",)])) for _ in minutes]
    actions = [upsert(f"{n}.jpg", [(name, 90.0) for name in names], START + timedelta(minutes=m))
               for n, (m, names) in enumerate(zip(minutes, tagged, strict=True))]
    load(index, actions)
    for query, matching in (({}, actions), ({"tags": ["DOG"]}, [a for a in actions if a["document"]["tags"][0].lower() == "dog"])):
        pages = walk(index, limit, **query)
        assert [key for _, page, _ in pages for key in page] == expected_order(matching)
        assert all(len(page) == limit for _, page, _ in pages[:-1]) and pages[-1][2] is None


# -- text and safe: the optional analyses ----------------------------------------------------------

def analysed_gallery():
    """Newest first: a flagged sign, a sign, a harbourside cafe, an image not analysed, a flagged dog,
    an image exactly at the threshold, an image whose analyses failed."""
    hour = timedelta(hours=1)
    return [upsert("flagged-sign.jpg", (("Sign", 90.0),), START + 6 * hour, text=["Harbour", "NO ENTRY"], moderation=80.0),
            upsert("sign.jpg", (("Sign", 95.0), ("Dog", 60.0)), START + 5 * hour, text=["WELCOME TO THE", "HARBOUR"],
                   moderation=0),
            upsert("cafe.jpg", (("Dog", 90.0),), START + 4 * hour, text=["Harbourside cafe"], moderation=10.0),
            upsert("old.jpg", (("Dog", 97.0),), START + 3 * hour),
            upsert("flagged-dog.jpg", (("Dog", 88.0),), START + 2 * hour, text=[], moderation=95.5),
            upsert("edge.jpg", (("Cat", 90.0),), START + hour, text=["harbour-master's office"],
                   moderation=MODERATION_THRESHOLD),
            upsert("failed.jpg", (("Dog", 70.0),), START, errors=["text", "moderation"])]


def test_given_texts_when_searched_for_a_word_in_any_case_then_only_images_with_that_word_match(new_index):
    index = new_index()
    load(index, analysed_gallery())
    for spelling in ("harbour", "HARBOUR", "Harbour"):
        found = index.search(text=spelling)
        assert (found["total"], keys(found)) == (3, ["flagged-sign.jpg", "sign.jpg", "edge.jpg"])
    assert keys(index.search(text="harbour welcome")) == ["sign.jpg"]  # every word must be there
    assert keys(index.search(text="welcome, harbour!")) == ["sign.jpg"]
    assert keys(index.search(text="harbourside")) == ["cafe.jpg"]
    assert keys(index.search(text="master's")) == ["edge.jpg"]
    assert index.search(text="harbo") == {"total": 0, "images": [], "next_cursor": None}  # words, not substrings
    assert index.search(text="harbour")["images"][1]["text"] == "WELCOME TO THE\nHARBOUR"


def test_given_moderation_results_when_searched_safe_then_images_at_or_above_the_threshold_are_left_out(new_index):
    index = new_index()
    load(index, analysed_gallery())
    found = index.search(safe=True)
    # Not analysed (old.jpg) or failed (failed.jpg): no label at or above the threshold, so they stay.
    assert (found["total"], keys(found)) == (4, ["sign.jpg", "cafe.jpg", "old.jpg", "failed.jpg"])
    assert index.search(safe=False)["total"] == index.search()["total"] == 7
    assert index.analysis_counts() == {"flagged": 3, "analysis_errors": 1}


def test_given_text_or_safe_with_tags_and_filters_when_searched_then_every_condition_must_hold(new_index):
    index = new_index()
    load(index, analysed_gallery())
    assert keys(index.search(tags=["sign"], text="harbour")) == ["flagged-sign.jpg", "sign.jpg"]
    assert keys(index.search(tags=["DOG"], text="harbour")) == ["sign.jpg"]
    assert keys(index.search(tags=["cat"], text="harbour", safe=True)) == []
    assert keys(index.search(tags=["dog"], safe=True)) == ["sign.jpg", "cafe.jpg", "old.jpg", "failed.jpg"]
    assert keys(index.search(tags=["dog", "sign"], safe=True)) == ["sign.jpg"]
    assert keys(index.search(tags=["dog"], safe=True, min_confidence=80)) == ["cafe.jpg", "old.jpg"]
    assert keys(index.search(text="harbour", safe=True, until=format_time(START + timedelta(hours=6)))) == ["sign.jpg"]
    assert index.search(tags=["dog"], safe=True, limit=0) == {"total": 4, "images": [], "next_cursor": None}
    assert index.search(text="harbour", limit=0)["total"] == 3


def test_given_a_text_or_safe_search_when_walked_by_cursor_then_each_match_comes_once_in_order(new_index):
    index = new_index()
    rng = random.Random(14)
    actions = [upsert(f"{n:03d}.jpg", (("Dog", 90.0),) if n % 2 else (("Cat", 90.0),),
                      START + timedelta(minutes=rng.randrange(60)),
                      text=["Harbour"] if n % 3 == 0 else ["Quay"], moderation=60.0 if n % 5 == 0 else 0)
               for n in range(90)]
    load(index, actions)
    for query, wanted in (({"text": "HARBOUR"}, lambda n: n % 3 == 0),
                          ({"text": "harbour", "tags": ["dog"]}, lambda n: n % 3 == 0 and n % 2),
                          ({"safe": True}, lambda n: n % 5 != 0),
                          ({"text": "harbour", "safe": True, "tags": ["cat"]}, lambda n: n % 6 == 0 and n % 5 != 0)):
        matching = [a for n, a in enumerate(actions) if wanted(n)]
        pages = walk(index, 4, **query)
        assert [key for _, page, _ in pages for key in page] == expected_order(matching), query
        assert {total for total, _, _ in pages} == {len(matching)}


def test_given_a_text_without_a_word_when_searched_then_the_search_refuses_it(new_index):
    index = new_index()
    for bad in ({"text": "  ?! "}, {"text": "x" * 201}, {"text": 7}, {"safe": "yes"}):
        with pytest.raises(ValueError):
            index.search(**bad)


WORD_CASES = ["HARBOUR", "Welcome to the harbour-master's office", "1,000 boats; a,b 1;2", "e.g. U.S.A. dock 3.5km",
              "harbour_master", "Café crème", "don’t stop", "東京タワー ひらがな", "  ?! "]


def test_given_texts_when_cut_into_words_then_the_sqlite_side_cuts_them_as_the_text_fields_analyzer_does(cluster):
    """`query.words` (what SQLite stores and matches) against the standard analyzer of the template's
    `text` field, as osmem-server applies it (OpenSearch's own analyzer is Lucene's; see the module)."""
    from autotagger.index.query import words

    index = OpenSearchIndex.from_url(cluster.url, index_name="semantics-words")
    index.ensure_ready()
    for text in WORD_CASES:
        analysed = index.client.indices.analyze(index=index.index_name, body={"field": "text", "text": text})
        assert words(text) == [token["token"] for token in analysed.get("tokens", [])], text
    index.close()


# -- a re-tag (the backfill's record) on both adapters ---------------------------------------------

def _record(action, key, sequencer, event_time="2026-11-25T12:00:00Z", labels=(("Dog", 97.0),), etag="e"):
    record = {"action": action, "bucket": "b", "key": key, "sequencer": sequencer, "event_time": event_time}
    if action == "upsert":
        record.update(size=1, etag=etag, labels=[{"Name": n, "Confidence": c} for n, c in labels])
    return action_from_record(parse_record(record), NOW)


def test_given_an_indexed_image_when_a_retag_of_its_etag_arrives_then_it_holds_the_new_labels_in_its_place(new_index):
    """A re-tag (the re-tag sequencer, the listing's quoted ETag) relabels the document of the same
    bytes and keeps its sequencer and upload time; it loses to a delete."""
    index = new_index()
    index.apply([_record("upsert", "dog.jpg", "0A", "2026-11-20T08:00:00Z"), _record("upsert", "cat.jpg", "0A")])
    retag = _record("upsert", "dog.jpg", RETAG_SEQUENCER, "2026-11-27T09:00:00Z", labels=(("Tiger", 91.0),))
    retag["document"]["etag"] = '"e"'
    assert [result["status"] for result in index.apply([retag])] == ["applied"]
    document = index.get(document_id("b", "dog.jpg"))
    assert (document["tags"], document["sequencer"], document["event_time"]) == (
        ["Tiger"], "0A", "2026-11-20T08:00:00Z")
    assert index.search(tags=["Tiger"])["total"] == 1 and index.search(tags=["Dog"])["total"] == 1  # cat.jpg

    index.apply([_record("delete", "dog.jpg", "0B")])
    assert [result["status"] for result in index.apply([retag])] == ["stale"]
    assert index.get(document_id("b", "dog.jpg")) is None
