"""`autotagger smoke --stack Autotagger [--region R]`: checks a deployment end to end (autotagger.smoke)."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "smoke", help="prove a deployment works: uploads, tagging, the stream, dead letters, deletes",
        description="Uploads images with awkward keys through the deployed API, follows them through the "
                    "workflow to the Kinesis stream, dead-letters a corrupt image, deletes an object, cleans up, "
                    "and prints a table of checks with console links. Exit status 1 if any check fails. Uses "
                    "your AWS credentials (profile/environment).")
    parser.add_argument("--stack", default="Autotagger", help="the CloudFormation stack (default Autotagger)")
    parser.add_argument("--region", default=None, help="AWS region (default: your profile's or AWS_REGION)")
    parser.add_argument("--timeout", type=float, default=90.0,
                        help="seconds to wait for each execution or dead letter (default 90)")
    parser.set_defaults(func=_smoke)


def _smoke(args: argparse.Namespace) -> int:
    from autotagger.smoke import Smoke, table

    smoke = Smoke(args.stack, region=args.region, timeout=args.timeout,
                  log=lambda line: print(line, file=sys.stderr, flush=True))
    checks = smoke.run()
    print(table(checks))
    failed = [c for c in checks if not c.passed]
    print(f"\n{len(checks) - len(failed)} of {len(checks)} checks passed", file=sys.stderr)
    return 1 if failed else 0
