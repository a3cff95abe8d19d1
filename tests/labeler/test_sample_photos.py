"""Real photos get the labels a person would name first, in range, with boxes inside the image."""

import pytest
from labeler_photos import SAMPLE_PHOTOS


def names(response) -> list[str]:
    return [label["Name"] for label in response["Labels"]]


def label(response, name):
    return next(item for item in response["Labels"] if item["Name"] == name)


def test_given_astronaut_photo_when_labelled_then_person_comes_first_with_a_box(sample_responses):
    response = sample_responses["astronaut"]
    assert names(response)[0] == "Person"
    assert label(response, "Person")["Instances"]


def test_given_cat_photo_when_labelled_then_cat_and_animal(sample_responses):
    response = sample_responses["chelsea"]
    assert {"Cat", "Animal", "Mammal"} <= set(names(response))
    assert "Dog" not in names(response)


def test_given_cat_photo_when_labelled_then_the_cat_box_is_a_cat(sample_responses):
    assert len(label(sample_responses["chelsea"], "Cat")["Instances"]) == 1


def test_given_coffee_photo_when_labelled_then_coffee_and_cup(sample_responses):
    assert {"Coffee", "Beverage", "Cup"} <= set(names(sample_responses["coffee"]))


def test_given_rocket_photo_when_labelled_then_rocket_and_vehicle(sample_responses):
    assert {"Rocket", "Vehicle"} <= set(names(sample_responses["rocket"]))


def test_given_motorcycle_photo_when_labelled_then_motorcycle_with_a_box(sample_responses):
    response = sample_responses["motorcycle"]
    assert {"Motorcycle", "Vehicle"} <= set(names(response))
    assert label(response, "Motorcycle")["Instances"]


def test_given_horse_silhouette_when_labelled_then_horse_with_a_box(sample_responses):
    response = sample_responses["horse"]
    assert {"Horse", "Animal"} <= set(names(response))
    assert label(response, "Horse")["Instances"]


def test_given_chinese_temple_photo_when_labelled_then_architecture_and_building(sample_responses):
    assert {"Architecture", "Building"} <= set(names(sample_responses["china"]))


def test_given_flower_photo_when_labelled_then_flower_and_plant(sample_responses):
    assert {"Flower", "Plant"} <= set(names(sample_responses["flower"]))


@pytest.mark.parametrize("photo", sorted(SAMPLE_PHOTOS))
def test_given_sample_photo_when_labelled_then_confidences_in_range_and_boxes_inside(sample_responses, photo):
    response = sample_responses[photo]
    assert response["Labels"], f"{photo}: no labels"
    for item in response["Labels"]:
        assert 55 <= item["Confidence"] <= 100
        for instance in item["Instances"]:
            box = instance["BoundingBox"]
            assert 0 <= instance["Confidence"] <= 100
            assert box["Left"] >= 0 and box["Left"] + box["Width"] <= 1 + 1e-6
            assert box["Top"] >= 0 and box["Top"] + box["Height"] <= 1 + 1e-6
            assert box["Width"] > 0 and box["Height"] > 0


@pytest.mark.parametrize("photo", sorted(SAMPLE_PHOTOS))
def test_given_sample_photo_when_labelled_then_every_parent_is_at_least_as_confident(sample_responses, photo):
    response = sample_responses[photo]
    confidence = {item["Name"]: item["Confidence"] for item in response["Labels"]}
    for item in response["Labels"]:
        for parent in item["Parents"]:
            if parent["Name"] in confidence:
                assert confidence[parent["Name"]] >= item["Confidence"]
