"""The user's rules file: what it may say, and the one-line errors when it says it wrong."""

import pytest

from autotagger.errors import UserError
from autotagger.labeler.rules import load_rules


def test_given_toml_rules_when_loaded_then_rename_exclude_and_thresholds_apply(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('exclude = ["Weapon"]\n[rename]\n"Tiger Cat" = "Cat"\n[thresholds]\nPerson = 80\n')
    rules = load_rules(path)
    assert rules.name("Tiger Cat") == "Cat" and rules.name("Dog") == "Dog"
    assert "Weapon" in rules.exclude
    assert rules.threshold("Person", 55) == 80 and rules.threshold("Person", 95) == 95
    assert rules.threshold("Dog", 55) == 55


def test_given_json_rules_when_loaded_then_same_meaning(tmp_path):
    path = tmp_path / "rules.json"
    path.write_text('{"rename": {"Malamute": "Husky"}, "thresholds": {"Husky": 70}}')
    rules = load_rules(path)
    assert rules.name("Malamute") == "Husky" and rules.threshold("Husky", 0) == 70


@pytest.mark.parametrize("text, message", [
    ('colour = "red"', "unknown keys"),
    ('exclude = "Weapon"', "exclude must be a list"),
    ('[thresholds]\nPerson = 120', "from 0 to 100"),
    ('[rename]\nPerson = ""', "non-empty"),
    ('[rename', "not valid TOML"),
])
def test_given_malformed_rules_when_loaded_then_user_error_says_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "rules.toml"
    path.write_text(text)
    with pytest.raises(UserError, match=message):
        load_rules(path)


def test_given_missing_rules_file_when_loaded_then_user_error(tmp_path):
    with pytest.raises(UserError, match="cannot read rules file"):
        load_rules(tmp_path / "nope.toml")
