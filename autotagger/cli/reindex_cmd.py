"""`autotagger reindex`: brings an index up to the current schema without losing a document.

With `--endpoint`, the OpenSearch index moves to the current index template (a versioned index
behind an alias: `autotagger.index.reindex`). Without it, the local SQLite index is opened, which
migrates an older schema in place.
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path

from autotagger.config import DEFAULT_DATA_DIR
from autotagger.contracts import INDEX_NAME
from autotagger.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "reindex", help="move an index to the current template or schema (idempotent; run again to resume)")
    parser.add_argument("--endpoint", metavar="URL",
                        help="OpenSearch URL (SigV4 for *.amazonaws.com); default: the SQLite index in --data-dir")
    parser.add_argument("--index-name", default=INDEX_NAME, help=f"OpenSearch index or alias (default {INDEX_NAME})")
    parser.add_argument("--region", help="AWS region for an Amazon OpenSearch endpoint (default: from the host)")
    parser.add_argument("--catch-up-minutes", type=float, default=15.0,
                        help="copy again what was indexed this long before the first copy began, for clock skew "
                             "between the indexer and this machine (default 15)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help=f"local data dir whose SQLite index to migrate (default {DEFAULT_DATA_DIR})")
    parser.set_defaults(func=_reindex)


def _reindex(args: argparse.Namespace) -> int:
    if args.endpoint:
        from autotagger.index.opensearch import OpenSearchIndex
        from autotagger.index.reindex import reindex

        index = OpenSearchIndex.from_url(args.endpoint, index_name=args.index_name, region=args.region)
        try:
            result = reindex(index.client, args.index_name, margin=timedelta(minutes=args.catch_up_minutes),
                             progress=print)
        finally:
            index.close()
        print(f"{result.status}: {args.index_name} -> {result.index}" +
              (f" ({result.documents} documents moved, {result.previous} deleted)" if result.status == "moved" else ""))
        return 0
    from autotagger.config import Settings
    from autotagger.index.sqlite import SCHEMA_VERSION, SQLiteIndex

    path = Path(Settings(data_dir=args.data_dir).index_target)
    if not path.is_file():
        raise UserError(f"no index to migrate: {path} does not exist")
    SQLiteIndex(path).close()  # opening migrates
    print(f"current: {path} is on schema {SCHEMA_VERSION}")
    return 0
