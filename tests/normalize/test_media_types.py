"""One table of image types (contracts.IMAGE_MEDIA_TYPES) and everything that must follow it: the ASL
file's direct-or-normalise Choice, the rule patterns, the dashboard's file picker and upload
Content-Type, the upload API."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from autotagger import contracts

STATIC = Path(contracts.__file__).parent / "dashboard" / "static"


def _patterns(choice: dict) -> set[str]:
    found = set()
    for node in choice.get("Or", []) + choice.get("And", []):
        found |= _patterns(node)
    if "StringMatches" in choice and choice.get("Variable") == "$.detail.object.key":
        found.add(choice["StringMatches"])
    return found


def test_GIVEN_the_asl_key_check_WHEN_read_THEN_direct_types_go_to_detect_labels_and_the_rest_to_normalize():
    """The rule admits only the table's extensions (any case); the Choice sends the direct types'
    all-lower and all-upper spellings to DetectLabels and everything else to Normalize (JSONPath has
    no lower-case function; a mixed-case .Jpg is normalised, which tags it the same)."""
    check = json.loads(contracts.ASL_FILE.read_text())["States"]["CheckObject"]
    direct = next(c for c in check["Choices"] if c.get("Next") == "AnalyzeOriginal")
    expected_direct = {f"*{spelling}" for media_type, suffixes in contracts.IMAGE_MEDIA_TYPES
                       if media_type in contracts.DIRECT_MEDIA_TYPES for s in suffixes for spelling in (s, s.upper())}
    assert _patterns(direct) == expected_direct
    assert check["Default"] == "LocateDerivative"


def test_GIVEN_the_rules_WHEN_built_THEN_every_extension_of_the_table_starts_the_workflow_and_derivatives_do_not():
    from autotagger.local.event_pattern import matches

    def created(key: str) -> dict:
        return {"source": contracts.S3_EVENT_SOURCE, "detail-type": contracts.OBJECT_CREATED,
                "detail": {"bucket": {"name": "b"}, "object": {"key": key, "size": 1}}}

    tagging = contracts.tagging_rule_pattern("b")
    unsupported = contracts.unsupported_object_rule_pattern("b")
    for _, suffixes in contracts.IMAGE_MEDIA_TYPES:
        for suffix in suffixes:
            for key in (f"a/photo{suffix}", f"a/photo{suffix.upper()}"):
                assert matches(tagging, created(key)) and not matches(unsupported, created(key))
    derivative = contracts.DERIVATIVES_PREFIX + "0" * 64
    assert not matches(tagging, created(derivative)) and not matches(unsupported, created(derivative))
    assert matches(unsupported, created("a/drawing.svg"))


def test_GIVEN_the_dashboard_WHEN_a_file_is_picked_THEN_it_offers_and_sends_every_type_of_the_table():
    accept = re.search(r'id="file-input"[^>]*accept="([^"]+)"', (STATIC / "index.html").read_text()).group(1)
    sent = re.search(r"const IMAGE_TYPES = \[([^\]]+)\]", (STATIC / "js" / "api.js").read_text()).group(1)
    for media_type, suffixes in contracts.IMAGE_MEDIA_TYPES:
        assert media_type in accept.split(",") and f'"{media_type}"' in sent
        assert all(suffix in accept.split(",") for suffix in suffixes)


@pytest.mark.parametrize("media_type", ["image/heic", "image/heif", "image/webp", "image/avif", "image/gif"])
def test_GIVEN_a_phone_or_web_type_WHEN_uploaded_THEN_the_api_accepts_it(media_type):
    from autotagger.server.upload_rules import UploadRejected, check_media_type

    assert check_media_type(media_type.upper() + "; charset=binary") == media_type
    with pytest.raises(UploadRejected):
        check_media_type("image/tiff")
