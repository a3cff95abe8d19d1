"""The label map's hypernyms that once gave wrong top-level labels (issue 15), and the scene and
document concepts that ImageNet classes imply. No models needed: the generated map only."""

import pytest

from autotagger.labeler.vocabulary import default_vocabulary

VOCAB = default_vocabulary()


def parents(label: str) -> set[str]:
    return set(VOCAB.info(label).parents)


@pytest.mark.parametrize("insect", ["Ladybug", "Monarch", "Bee", "Dragonfly", "Ant", "Butterfly", "Insect"])
def test_given_insect_when_mapped_then_animal_but_not_sea_life_nor_bird(insect):
    assert "Animal" in parents(insect)
    assert not {"Sea Life", "Bird"} & parents(insect)


@pytest.mark.parametrize("creature", ["Jellyfish", "Starfish", "Sea Urchin", "Brain Coral", "Chambered Nautilus",
                                      "Sea Slug", "Chiton", "Conch", "Dungeness Crab", "Goldfish", "Great White Shark"])
def test_given_sea_creature_when_mapped_then_sea_life_and_animal(creature):
    assert {"Sea Life", "Animal"} <= parents(creature)


def test_given_any_class_under_insect_or_spider_when_mapped_then_never_sea_life():
    land = [name for name in VOCAB.imagenet if {"Insect", "Spider"} & parents(name)]
    assert len(land) > 20 and not [name for name in land if "Sea Life" in parents(name)]


@pytest.mark.parametrize("vehicle", ["Bus", "School Bus", "Trolleybus", "Minibus", "Train", "Bullet Train",
                                     "Passenger Car", "Freight Car", "Electric Locomotive", "Steam Locomotive"])
def test_given_bus_or_train_when_mapped_then_vehicle_and_transportation(vehicle):
    assert {"Vehicle", "Transportation"} <= parents(vehicle)


def test_given_locomotives_and_railway_cars_when_mapped_then_train():
    assert all("Train" in parents(n) for n in ("Electric Locomotive", "Steam Locomotive", "Passenger Car"))


def test_given_any_flower_or_plant_part_when_mapped_then_never_an_animal():
    plants = [name for name in VOCAB.imagenet if "Plant" in parents(name)]
    assert {"Daisy", "Acorn", "Rapeseed", "Hip", "Corn", "Banana"} <= set(plants)
    assert not [name for name in plants if "Animal" in parents(name)]


def test_given_shore_classes_when_mapped_then_scene_concepts():
    assert {"Beach", "Sea", "Water", "Nature", "Outdoors"} <= parents("Seashore")
    assert {"Lake", "Water"} <= parents("Lakeside")
    assert {"Sea", "Water"} <= parents("Coral Reef")


def test_given_documents_and_signs_when_mapped_then_text():
    assert {"Sign", "Text"} <= parents("Street Sign")
    assert all("Text" in parents(n) for n in ("Menu", "Book Jacket", "Crossword Puzzle", "Web Site"))


def test_given_imagenet_clocks_when_mapped_then_under_the_detector_clock():
    assert all("Clock" in parents(n) for n in ("Wall Clock", "Analog Clock", "Digital Clock"))
    assert "Oven" not in parents("Dutch Oven")  # a pot, although WordNet files it under oven


@pytest.mark.parametrize("label", ["Sea Life", "Water", "Sea", "Beach", "Lake", "Indoors", "Text", "Sign", "Locomotive"])
def test_given_new_concept_when_mapped_then_its_parents_are_defined(label):
    assert label in VOCAB.labels and all(p in VOCAB.labels for p in parents(label))


@pytest.mark.parametrize("fungus", ["Agaric", "Bolete", "Earthstar", "Stinkhorn", "Gyromitra", "Coral Fungus",
                                    "Hen-of-the-woods", "Mushroom"])
def test_given_fungus_when_mapped_then_fungus_and_plant_as_rekognition_files_it(fungus):
    assert {"Fungus", "Plant"} <= parents(fungus)


@pytest.mark.parametrize("food", ["Trifle", "Ice Cream", "Pizza", "Hot Dog", "Consomme", "Carbonara", "Guacamole",
                                  "Dough", "Plate", "Chocolate Sauce"])
def test_given_dish_dessert_or_sauce_when_mapped_then_food(food):
    assert "Food" in parents(food)


@pytest.mark.parametrize("landscape", ["Alp", "Volcano", "Valley", "Cliff", "Promontory", "Seashore", "Lakeside",
                                       "Sandbar", "Geyser"])
def test_given_view_of_the_land_when_mapped_then_landscape_nature_outdoors(landscape):
    assert {"Landscape", "Nature", "Outdoors"} <= parents(landscape)
    assert "Landscape" not in parents("Coral Reef")  # under water


@pytest.mark.parametrize("exterior", ["Suspension Bridge", "Worm Fence", "Triumphal Arch", "Megalith", "Castle",
                                      "Palace", "Church", "Mosque", "Monastery", "Barn", "Tile Roof", "Bell Cote"])
def test_given_structure_pictured_from_outside_when_mapped_then_outdoors(exterior):
    assert {"Architecture", "Outdoors"} <= parents(exterior)


@pytest.mark.parametrize("interior", ["Library", "Bookshop", "Restaurant", "Barbershop", "Home Theater"])
def test_given_interior_when_mapped_then_indoors_never_outdoors(interior):
    assert "Indoors" in parents(interior) and "Outdoors" not in parents(interior)


def test_given_flowerpot_cardoon_and_comic_book_when_mapped_then_what_imagenet_pictures_show():
    assert {"Potted Plant", "Plant"} <= parents("Pot")
    assert {"Flower", "Plant"} <= parents("Cardoon")
    assert "Text" in parents("Comic Book")


@pytest.mark.parametrize("label", ["Fungus", "Landscape", "Pen", "Box"])
def test_given_new_hypernym_when_mapped_then_defined_with_defined_parents(label):
    assert label in VOCAB.labels and all(p in VOCAB.labels for p in parents(label))


@pytest.mark.parametrize(("label", "everyday"), [("Fountain Pen", "Pen"), ("Ballpoint", "Pen"), ("Quill", "Pen"),
                                                 ("Carton", "Box"), ("Crate", "Box"), ("Pencil Box", "Box")])
def test_given_pen_or_box_class_when_mapped_then_its_everyday_name_is_a_parent(label, everyday):
    # these had no parent at all: a fountain pen was a top-level label with no everyday name above it
    assert everyday in parents(label)
