"""Stream record -> index document, and the sequencer rule."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from autotagger.domain.documents import (
    DISPLAY_THRESHOLD,
    MalformedRecord,
    action_from_record,
    document_id,
    parse_record,
    resolve_within_batch,
    sequencer_key,
    supersedes,
    tags_from_labels,
    tombstone_for,
)

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


def upsert_record(**changes):
    record = {"action": "upsert", "bucket": "image-vaults", "key": "raw-image/dog.jpg", "size": 123, "etag": "abc",
              "sequencer": "0062E99A88DC407460", "event_time": "2026-11-25T12:00:00Z", "label_model_version": "3.0",
              "labels": [{"Name": "Dog", "Confidence": 97.1, "Parents": [{"Name": "Mammal"}, {"Name": "Animal"}],
                          "Categories": [{"Name": "Animals and Pets"}], "Aliases": [{"Name": "Pet"}],
                          "Instances": [{"Confidence": 95.0, "BoundingBox": {"Width": 0.4, "Height": 0.5,
                                                                             "Left": 0.1, "Top": 0.2}}]},
                         {"Name": "Grass", "Confidence": 54.9, "Parents": [], "Instances": []}],
              "execution_id": "arn:aws:states:::execution:x"}
    record.update(changes)
    return record


def test_given_same_bucket_and_key_when_id_derived_twice_then_ids_are_equal_40_hex():
    first, second = document_id("b", "k.jpg"), document_id("b", "k.jpg")
    assert first == second and len(first) == 40 and int(first, 16) >= 0


def test_given_another_key_or_bucket_when_ids_derived_then_they_differ():
    assert document_id("b", "k.jpg") != document_id("b", "k2.jpg")
    assert document_id("b", "k.jpg") != document_id("b2", "k.jpg")


def test_given_sequencers_of_different_length_when_compared_then_left_padding_decides():
    assert supersedes("0062E99A88DC407461", "62E99A88DC407460")
    assert not supersedes("62E99A88DC40745F", "0062E99A88DC407460")


def test_given_lower_and_upper_case_sequencers_when_keyed_then_keys_are_equal():
    assert sequencer_key("617f08299329d189") == sequencer_key("617F08299329D189")


def test_given_equal_sequencers_when_compared_then_the_new_event_supersedes():
    assert supersedes("617f08299329d189", "617F08299329D189")


def test_given_a_non_hex_sequencer_when_keyed_then_it_is_malformed():
    with pytest.raises(MalformedRecord):
        sequencer_key("not-hex")


def test_given_labels_around_the_threshold_when_tags_built_then_only_those_at_or_above_stay():
    labels = [{"name": "Dog", "confidence": 97.0}, {"name": "Edge", "confidence": DISPLAY_THRESHOLD},
              {"name": "Grass", "confidence": 54.99}]
    assert tags_from_labels(labels) == ["Dog", "Edge"]


def test_given_a_custom_threshold_when_tags_built_then_it_applies():
    assert tags_from_labels([{"name": "Grass", "confidence": 54.9}], threshold=50) == ["Grass"]


def test_given_an_upsert_record_when_converted_then_document_matches_the_contract():
    action = action_from_record(parse_record(json.dumps(upsert_record()).encode()), NOW)
    document = action["document"]
    assert action["action"] == "upsert" and action["id"] == document["id"] == document_id("image-vaults",
                                                                                           "raw-image/dog.jpg")
    assert document["tags"] == ["Dog"]
    assert document["labels"][0] == {"name": "Dog", "confidence": 97.1, "parents": ["Mammal", "Animal"],
                                     "categories": ["Animals and Pets"], "aliases": ["Pet"],
                                     "instances": [{"confidence": 95.0, "bounding_box": {
                                         "width": 0.4, "height": 0.5, "left": 0.1, "top": 0.2}}]}
    assert (document["size"], document["etag"], document["label_model_version"]) == (123, "abc", "3.0")
    assert (document["event_time"], document["indexed_at"]) == ("2026-11-25T12:00:00Z", "2026-11-25T12:00:00Z")


def _detection(text, kind, ident, left, top, parent=None):
    detection = {"DetectedText": text, "Type": kind, "Id": ident, "Confidence": 98.5,
                 "Geometry": {"BoundingBox": {"Width": 0.2, "Height": 0.05, "Left": left, "Top": top},
                              "Polygon": [{"X": left, "Y": top}] * 4}}
    return detection if parent is None else {**detection, "ParentId": parent}


def test_given_text_and_moderation_answers_when_converted_then_the_document_holds_lines_words_and_labels():
    text = {"TextModelVersion": "3.0", "TextDetections": [
        _detection("HARBOUR ROAD", "LINE", 0, 0.1, 0.1), _detection("closed", "LINE", 1, 0.1, 0.5),
        _detection("HARBOUR", "WORD", 2, 0.1, 0.1, parent=0), _detection("ROAD", "WORD", 3, 0.35, 0.1, parent=0),
        _detection("closed", "WORD", 4, 0.1, 0.5, parent=1)]}
    moderation = {"ModerationModelVersion": "7.0", "ModerationLabels": [
        {"Name": "Violence", "ParentName": "", "TaxonomyLevel": 1, "Confidence": 61.0},
        {"Name": "Weapons", "ParentName": "Violence", "TaxonomyLevel": 2, "Confidence": 58.5}]}
    errors = [{"analysis": "text", "error": "Rekognition.ThrottlingException", "cause": "Rate exceeded"}]
    document = action_from_record(parse_record(upsert_record(text=text, moderation=moderation,
                                                             analysis_errors=errors)), NOW)["document"]
    assert document["text"] == "HARBOUR ROAD\nclosed"  # the LINEs, in Rekognition's order
    assert [word["text"] for word in document["text_words"]] == ["HARBOUR", "ROAD", "closed"]
    assert document["text_words"][1] == {"text": "ROAD", "confidence": 98.5,
                                         "box": {"left": 0.35, "top": 0.1, "width": 0.2, "height": 0.05}}
    assert document["moderation"] == {"max_confidence": 61.0, "labels": [
        {"name": "Violence", "parent_name": "", "taxonomy_level": 1, "confidence": 61.0},
        {"name": "Weapons", "parent_name": "Violence", "taxonomy_level": 2, "confidence": 58.5}]}
    assert document["analysis_errors"] == errors


def test_given_analysed_and_found_nothing_or_not_analysed_when_converted_then_the_two_differ():
    found_nothing = action_from_record(parse_record(upsert_record(
        text={"TextDetections": []}, moderation={"ModerationLabels": []}, analysis_errors=[])), NOW)["document"]
    not_analysed = action_from_record(parse_record(upsert_record()), NOW)["document"]
    assert (found_nothing["text"], found_nothing["moderation"]) == ("", {"labels": [], "max_confidence": 0.0})
    assert (not_analysed["text"], not_analysed["moderation"], not_analysed["text_words"],
            not_analysed["analysis_errors"]) == (None, None, [], [])


def test_given_an_event_time_with_offset_when_parsed_then_it_is_normalised_to_utc():
    record = parse_record(upsert_record(event_time="2026-11-25T13:00:00+01:00"))
    assert record["event_time"] == "2026-11-25T12:00:00Z"


def test_given_a_delete_record_when_converted_then_a_tombstone_keeps_the_sequencer():
    record = {"action": "delete", "bucket": "b", "key": "k.jpg", "sequencer": "0A", "event_time": "2026-01-01T00:00:00Z"}
    action = action_from_record(parse_record(record), NOW)
    assert action["document"]["deleted"] is True and action["document"]["sequencer"] == "0A"
    assert action["document"]["tags"] == [] and action["id"] == document_id("b", "k.jpg")


def test_given_a_bare_delete_action_when_tombstoned_then_id_and_sequencer_are_kept():
    tombstone = tombstone_for({"action": "delete", "id": "abc", "sequencer": "01"}, NOW)
    assert (tombstone["id"], tombstone["sequencer"], tombstone["deleted"]) == ("abc", "01", True)


@pytest.mark.parametrize("change", [
    {"action": "rename"}, {"bucket": ""}, {"key": 7}, {"sequencer": None}, {"event_time": "yesterday"},
    {"size": -1}, {"size": "12"}, {"labels": "Dog"}, {"labels": [{"Confidence": 90}]},
    {"labels": [{"Name": "Dog", "Confidence": "high"}]},
    {"text": "HARBOUR"}, {"text": {"TextDetections": [{"DetectedText": "A", "Type": "BLOCK"}]}},
    {"text": {"TextDetections": [_detection("A", "WORD", 0, "left", 0.1)]}},
    {"moderation": {"ModerationLabels": [{"Confidence": 80.0}]}}, {"analysis_errors": {"analysis": "text"}},
])
def test_given_an_invalid_field_when_parsed_then_the_record_is_malformed(change):
    with pytest.raises(MalformedRecord):
        parse_record(upsert_record(**change))


def test_given_bytes_that_are_not_json_when_parsed_then_the_record_is_malformed():
    with pytest.raises(MalformedRecord):
        parse_record(b"{not json")


def test_given_two_actions_for_one_id_when_resolved_then_the_newer_wins_wherever_it_is():
    actions = [{"id": "a", "sequencer": "05"}, {"id": "a", "sequencer": "03"}, {"id": "b", "sequencer": "01"}]
    winners, stale = resolve_within_batch(actions)
    assert winners == {"a": 0, "b": 2} and stale == {1: "stale"}
