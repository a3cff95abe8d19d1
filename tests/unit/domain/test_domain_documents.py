"""Stream record -> index document, and the sequencer rule."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from autotagger.contracts import MODERATION_THRESHOLD, RETAG_SEQUENCER
from autotagger.domain.documents import (
    DISPLAY_THRESHOLD,
    MalformedRecord,
    action_from_record,
    decide,
    document_id,
    is_flagged,
    is_retag,
    parse_record,
    resolve_batch,
    sequencer_key,
    stored_state,
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


def _located_detection(text, kind, ident, left, top, parent=None):
    detection = {"DetectedText": text, "Type": kind, "Id": ident, "Confidence": 98.5,
                 "Geometry": {"BoundingBox": {"Width": 0.2, "Height": 0.05, "Left": left, "Top": top},
                              "Polygon": [{"X": left, "Y": top}] * 4}}
    return detection if parent is None else {**detection, "ParentId": parent}


def test_given_text_and_moderation_answers_when_converted_then_the_document_holds_lines_words_and_labels():
    text = {"TextModelVersion": "3.0", "TextDetections": [
        _located_detection("HARBOUR ROAD", "LINE", 0, 0.1, 0.1), _located_detection("closed", "LINE", 1, 0.1, 0.5),
        _located_detection("HARBOUR", "WORD", 2, 0.1, 0.1, parent=0), _located_detection("ROAD", "WORD", 3, 0.35, 0.1, parent=0),
        _located_detection("closed", "WORD", 4, 0.1, 0.5, parent=1)]}
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
    {"text": {"TextDetections": [_located_detection("A", "WORD", 0, "left", 0.1)]}},
    {"moderation": {"ModerationLabels": [{"Confidence": 80.0}]}}, {"analysis_errors": {"analysis": "text"}},
])
def test_given_an_invalid_field_when_parsed_then_the_record_is_malformed(change):
    with pytest.raises(MalformedRecord):
        parse_record(upsert_record(**change))


def test_given_bytes_that_are_not_json_when_parsed_then_the_record_is_malformed():
    with pytest.raises(MalformedRecord):
        parse_record(b"{not json")


def test_given_two_actions_for_one_id_when_resolved_then_the_newer_wins_wherever_it_is():
    actions = [{"action": "upsert", "id": "a", "sequencer": "05"}, {"action": "upsert", "id": "a", "sequencer": "03"},
               {"action": "delete", "id": "b", "sequencer": "01"}]
    statuses, final = resolve_batch(actions, {})
    assert statuses == ["applied", "stale", "applied"] and final == {"a": (0, {}), "b": (2, {})}


def retag(etag="abc", **changes):
    return action_from_record(parse_record(upsert_record(sequencer=RETAG_SEQUENCER, etag=etag,
                                                         event_time="2026-11-27T09:00:00Z", **changes)), NOW)


STORED = {"sequencer": "0062E99A88DC407460", "etag": "abc", "deleted": False, "event_time": "2026-11-25T12:00:00Z"}


def test_given_the_retag_sequencer_when_checked_then_only_upserts_with_it_are_retags():
    assert is_retag(retag()) and is_retag({"action": "upsert", "sequencer": "000"})
    assert not is_retag(action_from_record(parse_record(upsert_record()), NOW))
    assert not is_retag({"action": "delete", "sequencer": RETAG_SEQUENCER})


def test_given_a_stored_document_of_the_same_etag_when_a_retag_arrives_then_it_takes_over_sequencer_and_time():
    assert decide(retag(), STORED) == {"sequencer": STORED["sequencer"], "event_time": STORED["event_time"]}
    assert decide(retag(etag='"abc"'), STORED) is not None  # ListObjectsV2's quoted form


def test_given_a_quoted_etag_when_parsed_then_the_document_holds_it_without_quotes():
    assert parse_record(upsert_record(etag='"abc-2"'))["etag"] == "abc-2"


@pytest.mark.parametrize("stored", [
    STORED | {"etag": "other"},  # replaced since it was listed
    STORED | {"deleted": True, "etag": None},  # deleted since
    STORED | {"deleted": True},  # a tombstone never holds labels, whatever it says
    STORED | {"etag": None},  # a document indexed without an ETag cannot be matched
], ids=["another-etag", "tombstone", "tombstone-with-etag", "no-etag"])
def test_given_a_replaced_or_deleted_object_when_a_retag_arrives_then_it_is_stale(stored):
    assert decide(retag(), stored) is None


def test_given_nothing_stored_when_a_retag_arrives_then_it_writes_with_its_own_sequencer():
    assert decide(retag(), None) == {}


def test_given_a_retag_and_an_upload_in_one_batch_when_resolved_then_the_retag_builds_on_the_upload():
    upload = action_from_record(parse_record(upsert_record(sequencer="0062E99A88DC407470", etag="new")), NOW)
    statuses, final = resolve_batch([upload, retag(etag="new")], {upload["id"]: STORED})
    assert statuses == ["applied", "applied"]
    assert final == {upload["id"]: (1, {"sequencer": "0062E99A88DC407470", "event_time": "2026-11-25T12:00:00Z"})}
    statuses, final = resolve_batch([retag(etag="abc"), upload, retag(etag="abc")], {upload["id"]: STORED})
    assert statuses == ["applied", "applied", "stale"] and final == {upload["id"]: (1, {})}


def test_given_a_stored_document_when_its_state_is_taken_then_only_the_deciding_fields_are_kept():
    document = action_from_record(parse_record(upsert_record()), NOW)["document"]
    assert stored_state(document) == STORED and stored_state(None) is None


# -- the optional analyses: text and moderation ---------------------------------------------------

def _detection(text, kind, ident, parent=None, confidence=99.0, box=(0.1, 0.2, 0.3, 0.05)):
    left, top, width, height = box
    detection = {"DetectedText": text, "Type": kind, "Id": ident, "Confidence": confidence,
                 "Geometry": {"BoundingBox": {"Width": width, "Height": height, "Left": left, "Top": top},
                              "Polygon": [{"X": left, "Y": top}, {"X": left + width, "Y": top},
                                          {"X": left + width, "Y": top + height}, {"X": left, "Y": top + height}]}}
    if parent is not None:
        detection["ParentId"] = parent
    return detection


SIGN = {"TextDetections": [_detection("HARBOUR", "LINE", 0), _detection("Car park", "LINE", 1, box=(0.1, 0.4, 0.3, 0.05)),
                           _detection("HARBOUR", "WORD", 2, 0, 98.5), _detection("Car", "WORD", 3, 1, 97.0, (0.1, 0.4, 0.1, 0.05)),
                           _detection("park", "WORD", 4, 1, 96.0, (0.25, 0.4, 0.15, 0.05))],
        "TextModelVersion": "3.0"}
FLAGGED = {"ModerationLabels": [{"Name": "Violence", "ParentName": "", "TaxonomyLevel": 1, "Confidence": 81.5},
                                {"Name": "Weapons", "ParentName": "Violence", "TaxonomyLevel": 2, "Confidence": 81.5}],
           "ModerationModelVersion": "7.0"}


def document_of(**changes):
    return action_from_record(parse_record(upsert_record(**changes)), NOW)["document"]


def test_given_detect_text_and_moderation_answers_when_converted_then_the_document_holds_lines_words_and_labels():
    document = document_of(text=SIGN, moderation=FLAGGED,
                           analysis_errors=[])
    assert document["text"] == "HARBOUR\nCar park"
    assert document["text_words"] == [
        {"text": "HARBOUR", "confidence": 98.5, "box": {"left": 0.1, "top": 0.2, "width": 0.3, "height": 0.05}},
        {"text": "Car", "confidence": 97.0, "box": {"left": 0.1, "top": 0.4, "width": 0.1, "height": 0.05}},
        {"text": "park", "confidence": 96.0, "box": {"left": 0.25, "top": 0.4, "width": 0.15, "height": 0.05}}]
    assert document["moderation"] == {"labels": [
        {"name": "Violence", "parent_name": "", "taxonomy_level": 1, "confidence": 81.5},
        {"name": "Weapons", "parent_name": "Violence", "taxonomy_level": 2, "confidence": 81.5}], "max_confidence": 81.5}
    assert document["analysis_errors"] == [] and is_flagged(document)
    assert json.loads(json.dumps(document)) == document


def test_given_analyses_that_found_nothing_when_converted_then_text_is_empty_and_the_image_is_not_flagged():
    document = document_of(text={"TextDetections": [], "TextModelVersion": "3.0"},
                           moderation={"ModerationLabels": [], "ModerationModelVersion": "7.0"})
    assert (document["text"], document["text_words"]) == ("", [])
    assert document["moderation"] == {"labels": [], "max_confidence": 0.0} and not is_flagged(document)


def test_given_a_record_from_before_the_optional_analyses_when_converted_then_they_read_as_not_analysed():
    document = document_of()
    assert (document["text"], document["text_words"], document["moderation"], document["analysis_errors"]) == (
        None, [], None, [])
    assert not is_flagged(document)
    assert document_of(text=None, moderation=None, analysis_errors=None)["text"] is None


def test_given_a_failed_branch_when_converted_then_its_error_is_kept_and_its_analysis_is_null():
    errors = [{"analysis": "moderation", "error": "Rekognition.ThrottlingException", "cause": "Rate exceeded"}]
    document = document_of(text=SIGN, moderation=None, analysis_errors=errors)
    assert document["analysis_errors"] == errors and document["moderation"] is None


def test_given_a_label_just_under_or_at_the_threshold_when_checked_then_only_at_or_above_is_flagged():
    under = {"ModerationLabels": [{"Name": "Smoking", "ParentName": "", "TaxonomyLevel": 1,
                                   "Confidence": MODERATION_THRESHOLD - 0.01}]}
    at = {"ModerationLabels": [{"Name": "Smoking", "ParentName": "", "TaxonomyLevel": 1,
                                "Confidence": MODERATION_THRESHOLD}]}
    assert not is_flagged(document_of(moderation=under)) and is_flagged(document_of(moderation=at))


@pytest.mark.parametrize("change", [
    {"text": "HARBOUR"}, {"text": {"TextDetections": "HARBOUR"}}, {"text": {}},
    {"text": {"TextDetections": [{"DetectedText": "A", "Type": "PARAGRAPH"}]}},
    {"text": {"TextDetections": [{"DetectedText": 7, "Type": "LINE"}]}},
    {"text": {"TextDetections": [{"DetectedText": "A", "Type": "WORD", "Confidence": 90}]}},
    {"text": {"TextDetections": [{"DetectedText": "A", "Type": "WORD", "Confidence": "high",
                                  "Geometry": {"BoundingBox": {}}}]}},
    {"text": {"TextDetections": [{"DetectedText": "A", "Type": "WORD", "Confidence": 90,
                                  "Geometry": {"BoundingBox": {"Left": "x"}}}]}},
    {"text": {"TextDetections": [], "TextModelVersion": 3}},
    {"moderation": []}, {"moderation": {"ModerationLabels": None}}, {"moderation": {"ModerationLabels": [{}]}},
    {"moderation": {"ModerationLabels": [{"Name": "Violence", "Confidence": None}]}},
    {"moderation": {"ModerationLabels": [{"Name": "Violence", "Confidence": 80, "TaxonomyLevel": "1"}]}},
    {"moderation": {"ModerationLabels": [{"Name": "Violence", "Confidence": 80, "ParentName": None}]}},
    {"analysis_errors": {"analysis": "text"}}, {"analysis_errors": [{"analysis": "labels", "error": "X"}]},
    {"analysis_errors": [{"analysis": "text"}]}, {"analysis_errors": ["text failed"]},
])
def test_given_an_optional_analysis_of_the_wrong_shape_when_parsed_then_the_record_is_malformed(change):
    with pytest.raises(MalformedRecord):
        parse_record(upsert_record(**change))
