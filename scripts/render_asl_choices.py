"""Prints the 32 StringMatches patterns that CheckObject uses to accept .jpg/.jpeg/.png in any case.

JSONPath ASL has no lower-case function, so the Choice lists every case variant. Run this when
the accepted extensions change and paste the list into statemachine/image_tagging.asl.json.
"""
import itertools
import json


def case_variants(ext: str) -> list[str]:
    return sorted({"".join(c) for c in itertools.product(*[(ch.lower(), ch.upper()) for ch in ext])})


if __name__ == "__main__":
    print(json.dumps([f"*.{v}" for e in ("jpg", "jpeg", "png") for v in case_variants(e)]))
