"""How classifier and detector evidence become one DetectLabels answer (no models needed)."""

import numpy as np
import pytest

from autotagger.labeler.detector import Detection
from autotagger.labeler.rules import NO_RULES, Rules
from autotagger.labeler.scoring import build_response
from autotagger.labeler.vocabulary import default_vocabulary

VOCAB = default_vocabulary()


def imagenet_index(label: str) -> int:
    return VOCAB.imagenet.index(label)


def coco_index(label: str) -> int:
    return VOCAB.coco.index(label)


def probabilities(**mass: float) -> np.ndarray:
    p = np.zeros(1000, np.float32)
    for label, value in mass.items():
        p[imagenet_index(label.replace("_", " "))] = value
    return p


def box(label: str, score: float, left=0.1, top=0.1, width=0.6, height=0.7, alternatives=()) -> Detection:
    return Detection(coco_index(label), score, left, top, width, height,
                     frozenset(coco_index(a) for a in alternatives))


def respond(p=None, detections=(), min_confidence=55.0, max_labels=100, rules=NO_RULES):
    return build_response(p, list(detections), VOCAB, max_labels=max_labels, min_confidence=min_confidence,
                          model_version="test", rules=rules)


def by_name(response):
    return {label["Name"]: label for label in response["Labels"]}


def test_given_mass_over_several_cat_classes_when_scored_then_cat_sums_them():
    labels = by_name(respond(probabilities(Tabby=0.4, Tiger_Cat=0.3, Egyptian_Cat=0.2)))
    assert labels["Cat"]["Confidence"] == pytest.approx(90.0, abs=0.01)
    assert "Tabby" not in labels  # 40% alone stays under 55


def test_given_a_dog_breed_when_scored_then_dog_mammal_animal_are_parents():
    labels = by_name(respond(probabilities(Malamute=0.9)))
    assert [p["Name"] for p in labels["Malamute"]["Parents"]][:4] == ["Dog", "Canine", "Mammal", "Animal"]
    assert {"Dog", "Mammal", "Animal"} <= set(labels)


def test_given_any_evidence_when_scored_then_no_parent_is_below_its_best_child():
    response = respond(probabilities(Tabby=0.5, Malamute=0.3), [box("Person", 0.6), box("Dog", 0.8)],
                       min_confidence=0)
    labels = by_name(response)
    for label in response["Labels"]:
        for parent in label["Parents"]:
            assert labels[parent["Name"]]["Confidence"] >= label["Confidence"]


def test_given_person_box_when_scored_then_person_has_the_box_as_ratios():
    labels = by_name(respond(None, [box("Person", 0.64, left=0.2, top=0.05, width=0.5, height=0.9)]))
    person = labels["Person"]
    assert person["Confidence"] == pytest.approx(80.0, abs=0.01)
    assert person["Instances"] == [{"BoundingBox": {"Width": 0.5, "Height": 0.9, "Left": 0.2, "Top": 0.05},
                                    "Confidence": pytest.approx(80.0, abs=0.01)}]


def test_given_classifier_and_detector_agree_when_scored_then_confidence_beats_either_alone():
    alone = by_name(respond(probabilities(Tabby=0.6), min_confidence=0))["Cat"]["Confidence"]
    both = by_name(respond(probabilities(Tabby=0.6), [box("Cat", 0.36)], min_confidence=0))["Cat"]["Confidence"]
    assert both > max(alone, 60.0)


def test_given_labels_under_min_confidence_when_scored_then_dropped():
    labels = by_name(respond(probabilities(Tabby=0.9), [box("Person", 0.25)], min_confidence=55))
    assert "Cat" in labels and "Person" not in labels  # sqrt(0.25) = 50%


def test_given_max_labels_when_scored_then_only_the_most_confident_are_kept():
    response = respond(probabilities(Tabby=0.9), [box("Person", 0.8)], max_labels=2)
    assert [label["Confidence"] for label in response["Labels"]] == sorted(
        (label["Confidence"] for label in response["Labels"]), reverse=True)
    assert len(response["Labels"]) == 2


def test_given_detector_says_dog_with_cat_runner_up_and_classifier_sure_of_cat_when_scored_then_box_is_a_cat():
    labels = by_name(respond(probabilities(Tabby=0.9), [box("Dog", 0.47, alternatives=["Cat"])]))
    assert "Dog" not in labels
    assert len(labels["Cat"]["Instances"]) == 1


def test_given_detector_says_horse_without_dog_runner_up_when_classifier_says_dog_then_horse_stays():
    labels = by_name(respond(probabilities(Great_Dane=0.7), [box("Horse", 0.5)], min_confidence=50))
    assert len(labels["Horse"]["Instances"]) == 1


def test_given_tiny_box_when_scored_then_its_confidence_is_scaled_down():
    tiny = by_name(respond(None, [box("Clock", 0.36, width=0.05, height=0.02)], min_confidence=0))
    assert tiny["Clock"]["Confidence"] < 30


def test_given_rename_rule_when_scored_then_label_reported_under_new_name_with_its_boxes():
    labels = by_name(respond(None, [box("Person", 0.8)], rules=Rules(rename={"Person": "Human Being"})))
    assert "Person" not in labels and len(labels["Human Being"]["Instances"]) == 1


def test_given_exclude_rule_when_scored_then_label_gone_from_labels_and_parents():
    labels = by_name(respond(probabilities(Malamute=0.9), rules=Rules(exclude=frozenset({"Canine"}))))
    assert "Canine" not in labels
    assert "Canine" not in [p["Name"] for p in labels["Dog"]["Parents"]]


def test_given_threshold_rule_when_scored_then_that_label_needs_more_confidence():
    rules = Rules(thresholds={"Person": 90.0})
    labels = by_name(respond(probabilities(Tabby=0.9), [box("Person", 0.64)], rules=rules))
    assert "Person" not in labels and "Cat" in labels


def test_given_any_answer_when_scored_then_shaped_like_detect_labels():
    response = respond(probabilities(Tabby=0.9), [box("Cat", 0.5)])
    assert set(response) == {"Labels", "LabelModelVersion"}
    for label in response["Labels"]:
        assert set(label) == {"Name", "Confidence", "Instances", "Parents", "Aliases", "Categories"}
        assert 0 <= label["Confidence"] <= 100
        assert all(set(item) == {"Name"} for key in ("Parents", "Aliases", "Categories") for item in label[key])


@pytest.mark.parametrize(("mass", "hypernyms"), [
    ({"Agaric": 0.15, "Bolete": 0.15, "Earthstar": 0.1, "Stinkhorn": 0.1, "Gyromitra": 0.1}, {"Fungus", "Plant"}),
    ({"Daisy": 0.3, "Cardoon": 0.3}, {"Flower", "Plant"}),
    ({"Alp": 0.2, "Valley": 0.2, "Cliff": 0.2}, {"Landscape", "Nature", "Outdoors"}),
    ({"Monarch": 0.2, "Ringlet": 0.2, "Admiral": 0.2}, {"Butterfly", "Insect", "Animal"}),
    ({"Church": 0.2, "Castle": 0.2, "Monastery": 0.2}, {"Architecture", "Outdoors"}),
])
def test_given_mass_spread_over_many_classes_when_scored_then_their_hypernyms_carry_the_sum(mass, hypernyms):
    labels = by_name(respond(probabilities(**{k.replace(" ", "_"): v for k, v in mass.items()})))
    assert hypernyms <= set(labels)
    assert not set(mass) & set(labels)  # no single class is sure enough on its own
    for name in hypernyms:
        assert labels[name]["Confidence"] == pytest.approx(100 * sum(mass.values()), abs=0.01)
