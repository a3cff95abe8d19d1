"""Prints the StringMatches patterns of CheckObject: every case variant of the extensions in
autotagger.contracts.IMAGE_TYPES, first those that go straight to DetectLabels, then all of them.

JSONPath ASL has no lower-case function, so the Choice lists every case variant. Run this when
the table changes and paste the lists into statemachine/image_tagging.asl.json
(tests/normalize/test_media_types.py checks that they agree).
"""
import itertools
import json

from autotagger.contracts import DIRECT_MEDIA_TYPES, IMAGE_TYPES


def case_variants(ext: str) -> list[str]:
    return sorted({"".join(c) for c in itertools.product(*[(ch.lower(), ch.upper()) for ch in ext])})


def patterns(suffixes: list[str]) -> list[str]:
    return [f"*.{v}" for s in suffixes for v in case_variants(s.lstrip("."))]


if __name__ == "__main__":
    direct = [s for media_type, suffixes in IMAGE_TYPES if media_type in DIRECT_MEDIA_TYPES for s in suffixes]
    everything = [s for _, suffixes in IMAGE_TYPES for s in suffixes]
    print(json.dumps({"direct": patterns(direct), "normalize": patterns(everything)}, indent=1))
