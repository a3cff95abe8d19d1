"""`autotagger detect-labels IMAGE`: the labeler alone, as Rekognition's DetectLabels would answer."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from autotagger.config import LABELERS

RULES_EXAMPLE = """\
a rules file (TOML, or the same keys in JSON):
  exclude = ["Weapon"]        # never reported, nor listed as a parent
  [rename]
  "Tiger Cat" = "Cat"         # reported under the new name
  [thresholds]
  Person = 80                 # this label needs at least 80% (on top of --min-confidence)
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "detect-labels", help="label one image (JPEG or PNG) like Rekognition DetectLabels",
        description="Label one image. IMAGE is a file, '-' for standard input, or (with "
                    "--labeler rekognition) s3://bucket/key.",
        epilog=RULES_EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("image", metavar="IMAGE")
    parser.add_argument("--json", action="store_true", help="print the raw DetectLabels-shaped response")
    parser.add_argument("--max-labels", type=int, default=20, metavar="N", help="at most N labels (default 20)")
    parser.add_argument("--min-confidence", type=float, default=55.0, metavar="PCT",
                        help="drop labels under this confidence, 0-100 (default 55)")
    parser.add_argument("--rules", metavar="FILE", help="TOML/JSON rules: rename, exclude, thresholds")
    parser.add_argument("--labeler", choices=LABELERS, default="local",
                        help="local models (default) or AWS Rekognition")
    parser.set_defaults(func=_detect_labels)


def _read_image(spec: str) -> bytes:
    if spec == "-":
        return sys.stdin.buffer.read()
    path = Path(spec)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        from autotagger.errors import UserError

        raise UserError(f"no such file: {spec}") from None
    except OSError as exc:
        from autotagger.errors import UserError

        raise UserError(f"cannot read {spec}: {exc.strerror or exc}") from None


def format_labels(response: dict, title: str) -> str:
    """The human-readable listing: one line per label, one indented line per box."""
    lines = [f"{title}: {len(response['Labels'])} labels ({response.get('LabelModelVersion', '?')})"]
    if not response["Labels"]:
        lines.append("  (no label reached the minimum confidence)")
    width = max((len(label["Name"]) for label in response["Labels"]), default=0)
    for label in response["Labels"]:
        parents = ", ".join(p["Name"] for p in label.get("Parents", []))
        categories = ", ".join(c["Name"] for c in label.get("Categories", []))
        line = f"  {label['Name']:<{width}}  {label['Confidence']:5.1f}%"
        if parents:
            line += f"  parents: {parents}"
        if categories:
            line += f"  [{categories}]"
        lines.append(line)
        for instance in label.get("Instances", []):
            box = instance["BoundingBox"]
            lines.append(f"  {'':<{width}}    box {instance['Confidence']:5.1f}%: left {box['Left']:.3f} "
                         f"top {box['Top']:.3f} width {box['Width']:.3f} height {box['Height']:.3f}")
    return "\n".join(lines)


def _detect_labels(args: argparse.Namespace) -> int:
    from autotagger.errors import ServiceError, UserError
    from autotagger.labeler import get_labeler

    if args.max_labels < 0:
        raise UserError("--max-labels must be 0 or more")
    if not 0 <= args.min_confidence <= 100:
        raise UserError("--min-confidence must be between 0 and 100")
    if args.rules and not Path(args.rules).is_file():
        raise UserError(f"no such rules file: {args.rules}")
    s3 = args.labeler == "rekognition" and args.image.startswith("s3://")
    image = None if s3 else _read_image(args.image)  # a typo fails fast, before models load
    labeler = get_labeler(args.labeler, rules_path=args.rules)
    try:
        if image is None:  # an s3:// image, read by Rekognition itself
            from autotagger.labeler.rekognition import RekognitionLabeler

            bucket, _, key = args.image[5:].partition("/")
            if not bucket or not key:
                raise UserError("an S3 image is written s3://bucket/key")
            # S3 images are only read with --labeler rekognition, so get_labeler built the Rekognition adapter
            assert isinstance(labeler, RekognitionLabeler), f"{type(labeler).__name__} cannot read S3 images"
            response = labeler.detect_labels_s3(bucket, key, args.max_labels, args.min_confidence)
        else:
            response = labeler.detect_labels(image, args.max_labels, args.min_confidence)
    except ServiceError as exc:
        raise UserError(f"{args.image}: {exc.error_name}: {exc.message}") from None
    if args.json:
        print(json.dumps(response, indent=2))
    else:
        print(format_labels(response, args.image))
    return 0
