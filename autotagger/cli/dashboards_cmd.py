"""`autotagger dashboards install`: OpenSearch Dashboards saved objects as code.

Imports `dashboards/*.ndjson` (index pattern on `image_insights`, the tag visualizations and the
dashboard holding them) through the saved-objects API:
`POST <endpoint>/api/saved_objects/_import?overwrite=true` (`autotagger.dashboards_import`, which
the deploy's custom resource uses too). On Amazon OpenSearch Service the request is signed with
SigV4 (service `es`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from autotagger.dashboards_import import import_url, install
from autotagger.errors import UserError

__all__ = ["import_url", "install", "register", "saved_object_files"]

# The repository's dashboards/ folder (next to the package in a checkout).
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "dashboards"


def register(subparsers: argparse._SubParsersAction) -> None:
    dashboards = subparsers.add_parser(
        "dashboards", help="OpenSearch Dashboards saved objects (index pattern, visualizations, dashboard)")
    sub = dashboards.add_subparsers(dest="dashboards_command", metavar="ACTION", required=True)
    install = sub.add_parser("install", help="import dashboards/*.ndjson into OpenSearch Dashboards (idempotent)")
    install.add_argument("--endpoint", required=True,
                         help="OpenSearch Dashboards URL, e.g. http://localhost:5601 or https://DOMAIN.REGION.es.amazonaws.com/_dashboards")
    install.add_argument("--sigv4", action="store_true",
                         help="sign requests with AWS SigV4 (Amazon OpenSearch Service)")
    install.add_argument("--region", help="AWS region for --sigv4 (default: from the AWS configuration)")
    install.add_argument("--file", dest="files", action="append", type=Path,
                         help="an .ndjson file to import (repeatable; default: every dashboards/*.ndjson)")
    install.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for each request")
    install.set_defaults(func=_install)


def saved_object_files(files: list[Path] | None = None) -> list[Path]:
    chosen = files or sorted(DEFAULT_DIR.glob("*.ndjson"))
    if not chosen:
        raise UserError(f"no saved objects to import: no .ndjson files in {DEFAULT_DIR}")
    for path in chosen:
        if not path.is_file():
            raise UserError(f"no such file: {path}")
    return chosen


def _aws_auth(region: str | None):
    import boto3
    from requests_aws4auth import AWS4Auth

    session = boto3.Session(region_name=region) if region else boto3.Session()
    credentials = session.get_credentials()
    if credentials is None:
        raise UserError("--sigv4: no AWS credentials found (environment, profile or instance role)")
    if not session.region_name:
        raise UserError("--sigv4: no AWS region; pass --region")
    return AWS4Auth(region=session.region_name, service="es", refreshable_credentials=credentials)


def _install(args: argparse.Namespace) -> int:
    if args.region and not args.sigv4:
        raise UserError("--region only applies with --sigv4")
    files = saved_object_files(args.files)
    auth = _aws_auth(args.region) if args.sigv4 else None
    for answer in install(args.endpoint, files, auth=auth, timeout=args.timeout):
        print(f"imported {answer.get('successCount', 0)} saved objects from {answer['file']} "
              f"into {import_url(args.endpoint)}")
    return 0
