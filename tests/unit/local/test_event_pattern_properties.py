"""Property tests of the EventBridge pattern matcher: generated S3-shaped events against generated
patterns (literal, prefix, suffix, equals-ignore-case, anything-but, numeric, exists), compared with
a small reference written from the EventBridge documentation's rules, not from the matcher:
a field matches when any of its specs does; every field of the pattern must match; a value spec
needs the field present, only `exists: false` matches an absent one."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from autotagger.local.event_pattern import compile_pattern, matches

PROPERTIES = settings(max_examples=200, deadline=None)
ABSENT = object()

words = st.text(alphabet="aAb/.", max_size=4)
keys = st.text(alphabet="aAb/", min_size=1, max_size=6)


def related_words(key):
    """Words, and (for a present key) pieces of the key in any case, so specs often nearly match."""
    if key is ABSENT or not key:
        return words
    ends = sorted({key[:i] for i in range(len(key) + 1)} | {key[i:] for i in range(len(key) + 1)})
    return st.sampled_from(ends) | st.sampled_from(ends).map(str.swapcase) | st.just(key.swapcase()) | words


def key_specs(word):
    return st.one_of(
        st.tuples(st.just("literal"), word),
        st.tuples(st.just("prefix"), word),
        st.tuples(st.just("suffix"), word),
        st.tuples(st.just("equals-ignore-case"), word),
        st.tuples(st.just("anything-but"), st.lists(word, min_size=1, max_size=3)),
        st.tuples(st.just("anything-but-prefix"), word),
        st.tuples(st.just("exists"), st.booleans()),
    )


def size_specs():
    bounds = st.integers(0, 20)
    return st.one_of(
        st.tuples(st.just("literal"), bounds | bounds.map(str)),  # "5" is not 5 to EventBridge
        st.tuples(st.just("range"), st.tuples(bounds, bounds)),
        st.tuples(st.just("below"), bounds),
        st.tuples(st.just("equal"), bounds),
        st.tuples(st.just("exists"), st.booleans()),
    )


def to_pattern(kind: str, arg):
    """The EventBridge pattern syntax of one spec."""
    return {
        "literal": lambda: arg,
        "prefix": lambda: {"prefix": arg},
        "suffix": lambda: {"suffix": arg},
        "equals-ignore-case": lambda: {"equals-ignore-case": arg},
        "anything-but": lambda: {"anything-but": arg},
        "anything-but-prefix": lambda: {"anything-but": {"prefix": arg}},
        "exists": lambda: {"exists": arg},
        "range": lambda: {"numeric": [">", arg[0], "<=", arg[1]]},
        "below": lambda: {"numeric": ["<", arg]},
        "equal": lambda: {"numeric": ["=", arg]},
    }[kind]()


def reference(kind: str, arg, value) -> bool:
    """Whether one spec matches a field's value (ABSENT when the event lacks the field)."""
    if kind == "exists":
        return (value is not ABSENT) == arg
    if value is ABSENT:
        return False
    text, number = isinstance(value, str), isinstance(value, int)
    return {
        "literal": lambda: type(value) is type(arg) and value == arg,
        "prefix": lambda: text and value.startswith(arg),
        "suffix": lambda: text and value.endswith(arg),
        "equals-ignore-case": lambda: text and value.casefold() == arg.casefold(),
        "anything-but": lambda: value not in arg,
        "anything-but-prefix": lambda: not (text and value.startswith(arg)),
        "range": lambda: number and arg[0] < value <= arg[1],
        "below": lambda: number and value < arg,
        "equal": lambda: number and value == arg,
    }[kind]()


events = st.fixed_dictionaries({
    "source": st.sampled_from(["aws.s3", "aws.ec2"]),
    "key": st.one_of(keys, st.just(ABSENT)),
    "size": st.one_of(st.just(ABSENT), st.integers(0, 20)),
})


def s3_event(drawn) -> dict:
    obj = {name: drawn[name] for name in ("key", "size") if drawn[name] is not ABSENT}
    return {"source": drawn["source"], "detail-type": "Object Created",
            "detail": {"bucket": {"name": "image-vaults"}, "object": obj}}


def matched(pattern: dict, drawn: dict) -> bool:
    return matches(compile_pattern(pattern), s3_event(drawn))


@PROPERTIES
@given(events, st.data())
def test_GIVEN_string_specs_on_the_key_WHEN_matched_THEN_the_answer_is_the_references(drawn, data):
    rules = data.draw(st.lists(key_specs(related_words(drawn["key"])), min_size=1, max_size=2))
    pattern = {"detail": {"object": {"key": [to_pattern(*rule) for rule in rules]}}}

    assert matched(pattern, drawn) == any(reference(*rule, drawn["key"]) for rule in rules), pattern


@PROPERTIES
@given(events, st.lists(size_specs(), min_size=1, max_size=2))
def test_GIVEN_numeric_specs_on_the_size_WHEN_matched_THEN_the_answer_is_the_references(drawn, rules):
    pattern = {"detail": {"object": {"size": [to_pattern(*rule) for rule in rules]}}}

    assert matched(pattern, drawn) == any(reference(*rule, drawn["size"]) for rule in rules), pattern


@PROPERTIES
@given(events, st.data(), size_specs(), st.booleans())
def test_GIVEN_specs_on_several_fields_WHEN_matched_THEN_every_field_must_match(drawn, data, size_rule, with_source):
    key_rule = data.draw(key_specs(related_words(drawn["key"])))
    pattern = {"detail": {"object": {"key": [to_pattern(*key_rule)], "size": [to_pattern(*size_rule)]}}}
    if with_source:
        pattern["source"] = ["aws.s3"]

    expected = (reference(*key_rule, drawn["key"]) and reference(*size_rule, drawn["size"])
                and (not with_source or drawn["source"] == "aws.s3"))
    assert matched(pattern, drawn) == expected, pattern
