"""The local DetectModerationLabels (NudeNet) on the repository's real photos.

Honest by construction: a public repository holds no explicit material, so these tests show what
can be shown with ordinary photos (none is flagged at Rekognition's default threshold, the
threshold is honoured, the answer has Rekognition's shape and errors); the taxonomy mapping of
each NudeNet class is tested as a pure function in tests/unit/labeler/test_analyser_answers.py.
"""

from __future__ import annotations

import pytest

from autotagger.contracts import DETECT_MODERATION_DEFAULT_MIN_CONFIDENCE
from autotagger.errors import InvalidImageFormatException, InvalidParameterException
from tests.support.rekognition_shapes import assert_rekognition_answer


@pytest.fixture(scope="module")
def answers(moderation_detector, photos):
    """Every evaluation photo at the default threshold and at NudeNet's own floor (20)."""
    return {name: (moderation_detector.detect_moderation_labels(path.read_bytes()),
                   moderation_detector.detect_moderation_labels(path.read_bytes(), min_confidence=20.0))
            for name, path in photos.items()}


def test_GIVEN_the_repositorys_ordinary_photos_WHEN_moderated_at_the_default_threshold_THEN_none_is_flagged(answers):
    flagged = {name: default["ModerationLabels"] for name, (default, _) in answers.items() if default["ModerationLabels"]}

    assert len(answers) >= 60
    assert flagged == {}


def test_GIVEN_a_lower_MinConfidence_WHEN_moderated_THEN_it_is_honoured_and_shows_what_the_default_hides(answers):
    for default, lenient in answers.values():
        assert all(label["Confidence"] >= DETECT_MODERATION_DEFAULT_MIN_CONFIDENCE
                   for label in default["ModerationLabels"])
        assert all(label["Confidence"] >= 20.0 for label in lenient["ModerationLabels"])
    # NudeNet's weak guesses exist on ordinary photos (measured: an apple as buttocks at 32 %):
    # the threshold, not the model, is what keeps them out of the default answer.
    assert any(lenient["ModerationLabels"] for _, lenient in answers.values())


def test_GIVEN_any_answer_WHEN_checked_THEN_it_is_a_valid_DetectModerationLabels_response_naming_the_model(answers):
    for default, lenient in answers.values():
        assert_rekognition_answer("detect_moderation_labels", default)
        assert_rekognition_answer("detect_moderation_labels", lenient)
    assert {default["ModerationModelVersion"] for default, _ in answers.values()} == {"nudenet-3.4.2-320n"}


@pytest.mark.parametrize("data", [b"GIF89a\x01\x00\x01\x00", b"plain text, not a picture", b""],
                         ids=["gif", "text", "empty"])
def test_GIVEN_bytes_Rekognition_refuses_WHEN_moderated_THEN_InvalidImageFormatException(moderation_detector, data):
    with pytest.raises(InvalidImageFormatException):
        moderation_detector.detect_moderation_labels(data)


@pytest.mark.parametrize("min_confidence", [-1, 100.5, "50"])
def test_GIVEN_a_MinConfidence_out_of_range_WHEN_moderated_THEN_InvalidParameterException(moderation_detector, photos,
                                                                                             min_confidence):
    with pytest.raises(InvalidParameterException):
        moderation_detector.detect_moderation_labels(photos["apple"].read_bytes(), min_confidence=min_confidence)
