"""The `autotagger` command.

Each concern registers its own subcommands from a small module listed in COMMAND_MODULES, so the
parser stays cheap to build: modules import their heavy dependencies (onnxruntime, FastAPI)
inside the command function, never at import time.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from autotagger.errors import UserError

# Each module defines `register(subparsers)`; a subcommand sets `func=callable(args) -> int`.
COMMAND_MODULES = [
    "autotagger.cli.models_cmd",
    "autotagger.cli.labels_cmd",
    "autotagger.cli.dashboards_cmd",
    "autotagger.cli.serve_cmd", "autotagger.cli.dashboard_cmd", "autotagger.cli.pipeline_cmds",
    "autotagger.cli.reprocess_cmd", "autotagger.cli.reindex_cmd", "autotagger.cli.smoke_cmd",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autotagger", description="Automatic image tagging, locally or on AWS.")
    parser.add_argument("--version", action="version", version=f"autotagger {__import__('autotagger').__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # a command module not written yet
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"autotagger: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("autotagger: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
