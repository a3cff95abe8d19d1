"""README.md and README.kr.md are one README in two languages: the same sections, at the same
levels, in the same order, and the same commands in their code blocks (comments may be translated)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ENGLISH, KOREAN = REPO / "README.md", REPO / "README.kr.md"
FENCE = re.compile(r"^(```|~~~)")


def _split(text: str) -> tuple[list[int], list[list[str]]]:
    """(heading levels outside code blocks, code blocks as lists of lines)."""
    levels, blocks, block = [], [], None
    for line in text.splitlines():
        if FENCE.match(line.strip()):
            if block is None:
                block = []
            else:
                blocks.append(block)
                block = None
            continue
        if block is not None:
            block.append(line)
        elif heading := re.match(r"^(#{1,6})\s+\S", line):
            levels.append(len(heading.group(1)))
    assert block is None, "an unclosed code block"
    return levels, blocks


def _commands(block: list[str]) -> list[str]:
    """The block's lines without comments (a whole-line `#...` or a trailing ` # ...`)."""
    lines = [re.sub(r"\s+#\s.*$", "", line).rstrip() for line in block if not line.lstrip().startswith("#")]
    return [line for line in lines if line.strip()]


@pytest.fixture(scope="module")
def pair():
    return _split(ENGLISH.read_text(encoding="utf-8")), _split(KOREAN.read_text(encoding="utf-8"))


def test_given_both_readmes_when_their_headings_are_read_then_they_have_the_same_levels_in_the_same_order(pair):
    (english_levels, _), (korean_levels, _) = pair
    assert korean_levels == english_levels


def test_given_both_readmes_when_their_code_blocks_are_read_then_they_hold_the_same_commands(pair):
    (_, english_blocks), (_, korean_blocks) = pair
    assert [_commands(b) for b in korean_blocks] == [_commands(b) for b in english_blocks]


def test_given_the_korean_readme_when_read_then_it_is_written_in_korean():
    text = KOREAN.read_text(encoding="utf-8")
    prose = "\n".join(line for line in text.splitlines() if not line.startswith(("    ", "|")))
    hangul = len(re.findall(r"[\uac00-\ud7a3]", prose))
    assert hangul > 2000  # a translation, not a copy of the English


def test_given_comments_when_commands_are_compared_then_only_the_comments_may_differ():
    assert _commands(["make run    # sets up", "# a note", "npx cdk deploy"]) == ["make run", "npx cdk deploy"]
    assert _commands(["make run    # 설정"]) == _commands(["make run    # sets up"])
    assert _commands(["make test"]) != _commands(["make run"])
