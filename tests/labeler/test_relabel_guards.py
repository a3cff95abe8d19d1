"""Each guard of the cat/dog relabel rule in scoring.py, pinned with synthetic inputs (no models).

The rule: a detector box whose class the classifier finds implausible (< IMPLAUSIBLE) is renamed to
a sibling COCO class that the detector itself proposed for the box, when the classifier is sure of
that sibling (>= SURE) and the box covers at least RELABEL_MIN_AREA of the picture. Each test below
differs from the relabelled case in one guard only, so removing that guard makes it fail.
"""

import numpy as np
import pytest

from autotagger.labeler import scoring
from autotagger.labeler.detector import Detection
from autotagger.labeler.scoring import (
    IMPLAUSIBLE,
    RELABEL_MIN_AREA,
    SURE,
    build_response,
)
from autotagger.labeler.vocabulary import default_vocabulary

VOCAB = default_vocabulary()
TABBY = VOCAB.imagenet.index("Tabby")  # a Cat class
RETRIEVER = VOCAB.imagenet.index("Golden Retriever")  # a Dog class
SPORTS_CAR = VOCAB.imagenet.index("Sports Car")
DOG, CAT, HORSE, CAR = (VOCAB.coco.index(name) for name in ("Dog", "Cat", "Horse", "Car"))


def probabilities(**mass: float) -> np.ndarray:
    p = np.zeros(1000, np.float32)
    for index, value in ((TABBY, mass.get("cat", 0.0)), (RETRIEVER, mass.get("dog", 0.0)),
                         (SPORTS_CAR, mass.get("car", 0.0))):
        p[index] = value
    return p


def dog_box(area: float = 0.5, alternatives=frozenset({CAT})) -> Detection:
    side = area ** 0.5
    return Detection(DOG, 0.64, 0.0, 0.0, side, side, frozenset(alternatives))


def box_owner(p: np.ndarray, det: Detection) -> str:
    """The label the detector's box ended up under."""
    response = build_response(p, [det], VOCAB, max_labels=100, min_confidence=0.0, model_version="test")
    owners = [label["Name"] for label in response["Labels"] if label["Instances"]]
    assert len(owners) == 1, owners
    return owners[0]


def test_given_sure_cat_and_dog_box_with_cat_runner_up_when_scored_then_box_is_a_cat():
    assert box_owner(probabilities(cat=0.8), dog_box()) == "Cat"


def test_given_dog_just_plausible_when_scored_then_dog_box_kept():  # IMPLAUSIBLE
    assert box_owner(probabilities(cat=0.8, dog=IMPLAUSIBLE), dog_box()) == "Dog"
    assert box_owner(probabilities(cat=0.8, dog=IMPLAUSIBLE - 0.01), dog_box()) == "Cat"


def test_given_classifier_not_sure_of_cat_when_scored_then_dog_box_kept():  # SURE
    assert box_owner(probabilities(cat=SURE - 0.01), dog_box()) == "Dog"
    assert box_owner(probabilities(cat=SURE), dog_box()) == "Cat"


def test_given_small_dog_box_when_scored_then_dog_box_kept():  # RELABEL_MIN_AREA
    assert box_owner(probabilities(cat=0.8), dog_box(area=RELABEL_MIN_AREA * 0.9)) == "Dog"
    assert box_owner(probabilities(cat=0.8), dog_box(area=RELABEL_MIN_AREA * 1.1)) == "Cat"


@pytest.mark.parametrize("alternatives", [frozenset(), frozenset({HORSE})])
def test_given_detector_did_not_propose_cat_when_scored_then_dog_box_kept(alternatives):  # runner-up
    assert box_owner(probabilities(cat=0.8), dog_box(alternatives=alternatives)) == "Dog"


def test_given_proposed_runner_up_not_a_sibling_when_scored_then_dog_box_kept():  # shared parent
    p = probabilities(car=0.9)
    # some animal the classifier finds plausible, so that the other rule (a large box of a family the
    # classifier found nothing of is dropped: test_contradiction_guard.py) leaves the box alone
    p[VOCAB.imagenet.index("Brambling")] = IMPLAUSIBLE
    assert box_owner(p, dog_box(alternatives=frozenset({CAR}))) == "Dog"


def test_given_guards_when_read_then_constants_are_the_documented_ones():
    # the module docstring explains these values; a change must update it and these tests together
    assert (scoring.IMPLAUSIBLE, scoring.SURE, scoring.RELABEL_MIN_AREA) == (0.05, 0.5, 0.25)
