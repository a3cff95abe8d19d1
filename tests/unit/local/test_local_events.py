"""The EventBridge stand-in: S3 event shapes and event-pattern semantics."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest

from autotagger.local.event_pattern import InvalidEventPattern, matches
from autotagger.local.event_router import EventRouter, TargetDeliveryError
from autotagger.local.s3_events import object_created_event, object_deleted_event
from autotagger.ports import StoredObject

EVENTS = Path(__file__).resolve().parents[2] / "events"

OBJ = StoredObject(bucket="image-vaults", key="raw-image/dog.jpg", size=184662,
                   etag="4e68adba0abe2dc8653dc3354e14c01d", sequencer="0005E9A2B4C8D10F1A",
                   last_modified="2026-11-25T12:00:00.123Z", content_type="image/jpeg")


def _keys(d, prefix=""):
    out = set()
    for k, v in d.items():
        out.add(prefix + k)
        if isinstance(v, dict):
            out |= _keys(v, prefix + k + ".")
    return out


# -- event shapes -------------------------------------------------------------------------------

def test_given_a_stored_object_when_created_event_built_then_it_has_exactly_the_fields_of_the_sample():
    event = object_created_event(OBJ, region="us-east-1", account="123456789012")
    sample = json.loads((EVENTS / "eventbridge_object_created.json").read_text())

    assert _keys(event) == _keys(sample)


def test_given_a_stored_object_when_created_event_built_then_values_come_from_the_object():
    event = object_created_event(OBJ, region="eu-west-1", account="123456789012", source_ip="10.1.2.3")

    assert event["version"] == "0" and event["source"] == "aws.s3" and event["detail-type"] == "Object Created"
    assert uuid.UUID(event["id"]).version == 4
    assert event["time"] == "2026-11-25T12:00:00Z"
    assert event["region"] == "eu-west-1" and event["account"] == "123456789012"
    assert event["resources"] == ["arn:aws:s3:::image-vaults"]
    assert event["detail"]["object"] == {"key": OBJ.key, "size": OBJ.size, "etag": OBJ.etag, "sequencer": OBJ.sequencer}
    assert event["detail"]["bucket"] == {"name": "image-vaults"}
    assert event["detail"]["reason"] == "PutObject" and event["detail"]["source-ip-address"] == "10.1.2.3"
    assert re.fullmatch(r"[A-Z0-9]{16}", event["detail"]["request-id"])
    assert event["detail"]["requester"] == "123456789012"


def test_given_a_delete_when_deleted_event_built_then_it_is_shaped_like_s3s_delete_event():
    event = object_deleted_event(OBJ, region="us-east-1", account="123456789012")
    sample = json.loads((EVENTS / "eventbridge_object_deleted.json").read_text())

    assert _keys(event) == _keys(sample)
    assert event["detail-type"] == "Object Deleted"
    assert event["detail"]["object"] == {"key": OBJ.key, "sequencer": OBJ.sequencer}
    assert event["detail"]["reason"] == "DeleteObject"
    assert event["detail"]["deletion-type"] == "Permanently Deleted"


def test_given_two_events_for_one_object_then_their_ids_differ():
    first = object_created_event(OBJ, region="us-east-1", account="1")
    second = object_created_event(OBJ, region="us-east-1", account="1")

    assert first["id"] != second["id"]


# -- pattern semantics -------------------------------------------------------------------------

CREATED = json.loads((EVENTS / "eventbridge_object_created.json").read_text())
DELETED = json.loads((EVENTS / "eventbridge_object_deleted.json").read_text())


@pytest.mark.parametrize("pattern, event, expected", [
    ({"source": ["aws.s3"]}, CREATED, True),
    ({"source": ["aws.ec2"]}, CREATED, False),
    ({"detail-type": ["Object Created", "Object Deleted"]}, DELETED, True),
    ({"detail": {"bucket": {"name": ["image-vaults"]}}}, CREATED, True),
    ({"detail": {"bucket": {"name": ["other"]}}}, CREATED, False),
    ({"detail": {"object": {"key": [{"prefix": "raw-image/"}]}}}, CREATED, True),
    ({"detail": {"object": {"key": [{"prefix": "thumbs/"}]}}}, CREATED, False),
    ({"detail": {"object": {"key": [{"prefix": {"equals-ignore-case": "RAW-IMAGE/"}}]}}}, CREATED, True),
    ({"detail": {"object": {"key": [{"suffix": ".jpg"}]}}}, CREATED, True),
    ({"detail": {"object": {"key": [{"suffix": {"equals-ignore-case": ".JPG"}}]}}}, CREATED, True),
    ({"detail": {"object": {"key": [{"suffix": ".png"}, {"suffix": ".jpg"}]}}}, CREATED, True),
    ({"detail": {"reason": [{"equals-ignore-case": "putobject"}]}}, CREATED, True),
    ({"detail": {"object": {"key": [{"wildcard": "raw-*/*.jpg"}]}}}, CREATED, True),
    ({"detail": {"object": {"key": [{"wildcard": "raw-*/*.png"}]}}}, CREATED, False),
    ({"detail": {"reason": [{"anything-but": "DeleteObject"}]}}, CREATED, True),
    ({"detail": {"reason": [{"anything-but": ["PutObject", "CopyObject"]}]}}, CREATED, False),
    ({"detail": {"object": {"key": [{"anything-but": {"prefix": "thumbs/"}}]}}}, CREATED, True),
    ({"detail": {"object": {"key": [{"anything-but": {"suffix": ".jpg"}}]}}}, CREATED, False),
    ({"detail": {"deletion-type": [{"anything-but": "x"}]}}, CREATED, False),  # needs the field
    ({"detail": {"deletion-type": [{"exists": False}]}}, CREATED, True),
    ({"detail": {"deletion-type": [{"exists": True}]}}, DELETED, True),
    ({"detail": {"deletion-type": [{"exists": True}]}}, CREATED, False),
    ({"detail": {"object": {"size": [{"numeric": [">", 0, "<=", 15728640]}]}}}, CREATED, True),
    ({"detail": {"object": {"size": [{"numeric": [">=", 200000]}]}}}, CREATED, False),
    ({"detail": {"object": {"size": [{"numeric": ["=", 184662]}]}}}, CREATED, True),
    ({"detail": {"object": {"size": [184662]}}}, CREATED, True),
    ({"detail": {"object": {"size": ["184662"]}}}, CREATED, False),  # a string is not the number
    ({"detail": {"object": {"sequencer": [{"numeric": [">", 0]}]}}}, CREATED, False),  # nor a number
    ({"detail": {"source-ip-address": [{"cidr": "203.0.113.0/24"}]}}, CREATED, True),
    ({"detail": {"source-ip-address": [{"cidr": "10.0.0.0/8"}]}}, CREATED, False),
    ({"resources": ["arn:aws:s3:::image-vaults"]}, CREATED, True),  # any element of an event array
    ({"resources": [{"prefix": "arn:aws:s3:::other"}]}, CREATED, False),
    ({"source": ["aws.s3"], "detail-type": ["Object Deleted"]}, CREATED, False),  # fields AND
    ({"detail": {"bucket": [{"exists": True}]}}, CREATED, False),  # exists is for leaves
    ({"$or": [{"detail-type": ["Object Deleted"]}, {"detail": {"object": {"size": [{"numeric": [">", 0]}]}}}]},
     CREATED, True),
    ({"$or": [{"detail-type": ["Object Deleted"]}, {"source": ["aws.ec2"]}]}, CREATED, False),
])
def test_given_a_pattern_when_matched_against_an_s3_event_then_eventbridge_semantics(pattern, event, expected):
    assert matches(pattern, event) is expected


@pytest.mark.parametrize("pattern, expected", [
    ({"flag": [True]}, True),
    ({"flag": [1]}, False),
    ({"none": [None]}, True),
    ({"missing": [None]}, False),
    ({"count": [2.0]}, True),
    ({"count": [{"anything-but": 2}]}, False),
    ({"tags": ["b"]}, True),
    ({"tags": [{"prefix": "c"}]}, False),
    ({"items": {"name": ["y"]}}, True),  # an array of objects: any element may match
    ({"text": [{"wildcard": "lit\\*eral*"}]}, True),
    ({"text": [{"wildcard": "lit*eral"}]}, False),
])
def test_given_json_types_and_arrays_when_matched_then_types_are_not_coerced(pattern, expected):
    event = {"flag": True, "none": None, "count": 2, "tags": ["a", "b"], "items": [{"name": "x"}, {"name": "y"}],
             "text": "lit*eral star"}

    assert matches(pattern, event) is expected


def test_given_patterns_and_s3_events_then_results_agree_with_moto_where_moto_is_documented_behaviour():
    moto_events = pytest.importorskip("moto.events.models")
    patterns = [
        {"source": ["aws.s3"], "detail-type": ["Object Created"], "detail": {"bucket": {"name": ["image-vaults"]}}},
        {"detail": {"object": {"key": [{"prefix": "raw-image/"}]}}},
        {"detail": {"object": {"key": [{"suffix": ".png"}]}}},
        {"detail": {"object": {"size": [{"numeric": [">", 0, "<=", 100]}]}}},
        {"detail": {"deletion-type": [{"exists": False}]}},
        {"detail": {"reason": [{"anything-but": ["PutObject"]}]}},
        {"detail-type": ["Object Deleted"], "detail": {"object": {"key": [{"prefix": "raw"}]}}},
    ]
    for pattern in patterns:
        oracle = moto_events.EventPattern(json.dumps(pattern), pattern)
        for event in (CREATED, DELETED):
            assert matches(pattern, event) == oracle.matches_event(event), (pattern, event["detail-type"])


@pytest.mark.parametrize("pattern, message", [
    ({"detail": {"object": {"key": [{"contains": "dog"}]}}}, "unsupported operator 'contains'"),
    ({"detail": {"object": {"key": [{"regex": ".*"}]}}}, "unsupported operator 'regex'"),
    ({"detail": {"object": {"key": [{"prefix": "a", "suffix": "b"}]}}}, "one\\s+operator"),
    ({"source": "aws.s3"}, "must be an object or an array"),
    ({"source": []}, "empty arrays"),
    ({}, "non-empty"),
    ({"detail": {"object": {"size": [{"numeric": [">", "0"]}]}}}, "numeric"),
    ({"detail": {"object": {"size": [{"numeric": [">", 0, ">", 5]}]}}}, "lower"),
    ({"detail": {"exists": [{"exists": "yes"}]}}, "true or false"),
    ({"detail": {"key": [{"wildcard": "a**b"}]}}, "consecutive"),
    ({"detail": {"ip": [{"cidr": "not-a-network"}]}}, "CIDR"),
    ({"$or": [{"source": ["a"]}]}, "at least two"),
    ("{not json", "not JSON"),
])
def test_given_an_invalid_or_unsupported_pattern_when_rule_added_then_refused_with_a_clear_error(pattern, message):
    router = EventRouter()

    with pytest.raises(InvalidEventPattern, match=message):
        router.add_rule("r", pattern, lambda e: None)

    assert router.rules() == []


# -- the router ---------------------------------------------------------------------------------

def test_given_rules_when_an_event_is_published_then_only_matching_targets_get_it():
    router = EventRouter()
    got: dict[str, list] = {"created": [], "deleted": []}
    router.add_rule("created", {"detail-type": ["Object Created"]}, got["created"].append)
    router.add_rule("deleted", {"detail-type": ["Object Deleted"]}, got["deleted"].append)

    matched = router.publish(CREATED)

    assert matched == ["created"]
    assert got["created"] == [CREATED] and got["deleted"] == []


def test_given_a_json_text_pattern_when_rule_added_then_it_matches_like_the_dict():
    router = EventRouter()
    router.add_rule("r", json.dumps({"source": ["aws.s3"]}), lambda e: None)

    assert router.publish(CREATED) == ["r"]


def test_given_a_target_that_mutates_its_event_then_other_targets_get_the_original():
    router = EventRouter()
    seen = []
    router.add_rule("a", {"source": ["aws.s3"]}, lambda e: e["detail"].clear())
    router.add_rule("b", {"source": ["aws.s3"]}, lambda e: seen.append(e["detail"]["object"]["key"]))

    router.publish(CREATED)

    assert seen == ["raw-image/dog.jpg"] and CREATED["detail"]["object"]["key"] == "raw-image/dog.jpg"


def test_given_a_failing_target_when_published_then_others_are_delivered_and_the_failure_is_raised():
    router = EventRouter()
    delivered = []

    def broken(event):
        raise RuntimeError("workflow store unavailable")

    router.add_rule("broken", {"source": ["aws.s3"]}, broken)
    router.add_rule("ok", {"source": ["aws.s3"]}, delivered.append)

    with pytest.raises(TargetDeliveryError) as err:
        router.publish(CREATED)

    assert list(err.value.failures) == ["broken"] and err.value.delivered == ["ok"]
    assert delivered == [CREATED]


def test_given_a_removed_rule_when_published_then_it_no_longer_matches():
    router = EventRouter()
    router.add_rule("r", {"source": ["aws.s3"]}, lambda e: None)

    router.remove_rule("r")

    assert router.publish(CREATED) == []
