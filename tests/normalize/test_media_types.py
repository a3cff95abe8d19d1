"""One table of image types (contracts.IMAGE_TYPES) and everything that must follow it: the ASL
file's key check (every case variant of every extension), the dashboard's file picker and upload
Content-Type, the upload API."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest

from autotagger import contracts

STATIC = Path(contracts.__file__).parent / "dashboard" / "static"


def _case_variants(suffix: str) -> set[str]:
    ext = suffix.lstrip(".")
    return {"*." + "".join(c) for c in itertools.product(*[(ch.lower(), ch.upper()) for ch in ext])}


def _patterns(choice: dict) -> set[str]:
    found = set()
    for node in choice.get("Or", []) + choice.get("And", []):
        found |= _patterns(node)
    if "StringMatches" in choice and choice.get("Variable") == "$.detail.object.key":
        found.add(choice["StringMatches"])
    return found


def test_GIVEN_the_asl_key_check_WHEN_read_THEN_it_routes_every_case_of_every_extension_of_the_table():
    choices = json.loads(contracts.ASL_FILE.read_text())["States"]["CheckObject"]["Choices"]
    direct = next(c for c in choices if c.get("Next") == "AnalyzeOriginal")
    normalize = next(c for c in choices if c.get("Next") == "LocateDerivative")
    expected_direct = set().union(*(_case_variants(s) for t, sfx in contracts.IMAGE_TYPES if t in
                                    contracts.DIRECT_MEDIA_TYPES for s in sfx))
    expected_all = set().union(*(_case_variants(s) for _, sfx in contracts.IMAGE_TYPES for s in sfx))
    assert _patterns(direct) == expected_direct
    assert _patterns(normalize) == expected_all
    assert "*.HeIc" in expected_all and "*.tiff" not in expected_all


def test_GIVEN_the_dashboard_WHEN_a_file_is_picked_THEN_it_offers_and_sends_every_type_of_the_table():
    accept = re.search(r'id="file-input"[^>]*accept="([^"]+)"', (STATIC / "index.html").read_text()).group(1)
    sent = re.search(r"const type = \[([^\]]+)\]", (STATIC / "js" / "api.js").read_text()).group(1)
    for media_type, suffixes in contracts.IMAGE_TYPES:
        assert media_type in accept.split(",") and f'"{media_type}"' in sent
        assert all(suffix in accept.split(",") for suffix in suffixes)


@pytest.mark.parametrize("media_type", ["image/heic", "image/heif", "image/webp", "image/avif", "image/gif"])
def test_GIVEN_a_phone_or_web_type_WHEN_uploaded_THEN_the_api_accepts_it(media_type):
    from autotagger.server.upload_rules import UploadRejected, check_media_type

    assert check_media_type(media_type.upper() + "; charset=binary") == media_type
    with pytest.raises(UploadRejected):
        check_media_type("image/tiff")
