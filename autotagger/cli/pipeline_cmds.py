"""`autotagger tag | search | stats | executions | dlq`: the local pipeline from the terminal.

`tag` and `dlq redrive` run the pipeline in this process (no server needed); the other commands
only read the data directory, so they also work while `autotagger serve` runs on it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from autotagger.config import DEFAULT_BUCKET, DEFAULT_DATA_DIR, LABELERS, Settings
from autotagger.contracts import MEDIA_TYPE_BY_SUFFIX
from autotagger.errors import InvalidCursor, UserError
from autotagger.local.stores import EXECUTION_STATUSES

# -- shared options ---------------------------------------------------------------------------

def add_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help=f"where objects, stream, queues, executions and index live (default {DEFAULT_DATA_DIR})")
    parser.add_argument("--bucket", default=DEFAULT_BUCKET, help=f"bucket name (default {DEFAULT_BUCKET})")
    parser.add_argument("--index", default=None, metavar="URL",
                        help="an OpenSearch URL (or SQLite file) instead of the SQLite index in the data dir")


def add_pipeline_options(parser: argparse.ArgumentParser) -> None:
    add_data_options(parser)
    parser.add_argument("--labeler", choices=LABELERS, default="local",
                        help="local: the ONNX models on this machine; "
                             "rekognition: Amazon Rekognition (AWS credentials)")
    parser.add_argument("--workers", type=int, default=None, help="concurrent executions (default: CPU cores)")
    from autotagger.faults import add_fault_options

    add_fault_options(parser)


def settings_from_args(args: argparse.Namespace) -> Settings:
    options: dict[str, Any] = {"data_dir": args.data_dir, "bucket": args.bucket, "index": args.index}
    if getattr(args, "labeler", None):
        options["labeler"] = args.labeler
    if getattr(args, "workers", None) is not None:
        options["workers"] = args.workers
    if getattr(args, "fault", None):
        options["faults"] = tuple(args.fault)
    return Settings(**options)


def open_pipeline(settings: Settings):
    """A started pipeline; a labeler that cannot load (models not built, no credentials) is a
    user error with the fix, not a traceback."""
    from autotagger.local.runtime import Pipeline

    try:
        pipeline = Pipeline(settings)
    except OSError as exc:
        raise UserError(f"cannot use the data directory {settings.data_dir}: {exc.strerror or exc}") from None
    try:
        pipeline.start()
    except UserError:
        pipeline.close()
        raise
    except (FileNotFoundError, ImportError, RuntimeError) as exc:
        pipeline.close()
        hint = "run `autotagger models build`" if settings.labeler == "local" else "check your AWS credentials"
        raise UserError(f"cannot start the {settings.labeler} labeler: {exc} ({hint})") from None
    return pipeline


def open_stores(args: argparse.Namespace):
    from autotagger.local.stores import LocalStores

    if not Path(args.data_dir).is_dir():
        raise UserError(f"no data directory at {args.data_dir}: nothing has been tagged there yet")
    return LocalStores(settings_from_args(args))


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def _table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=True)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines)


def _labels_text(labels: list[dict[str, Any]], limit: int = 8) -> str:
    shown = ", ".join(f"{label['name']} {label['confidence']:.1f}" for label in labels[:limit])
    more = len(labels) - limit
    return shown + (f" (+{more} more)" if more > 0 else "") if labels else "(no labels)"


# -- registration -----------------------------------------------------------------------------

def register(subparsers: argparse._SubParsersAction) -> None:
    tag = subparsers.add_parser("tag", help="tag image files or folders through the local pipeline (no server)")
    tag.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                     help="image files, or folders (their .jpg, .jpeg and .png files, recursively)")
    tag.add_argument("--prefix", default="", help="key prefix in the bucket, e.g. raw-image/")
    tag.add_argument("--json", action="store_true", help="print the results as JSON")
    tag.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for tagging (default 600)")
    add_pipeline_options(tag)
    tag.set_defaults(func=_tag)

    search = subparsers.add_parser("search", help="find tagged images by tag")
    search.add_argument("--tag", action="append", default=[], help="a tag every image must have (repeatable)")
    search.add_argument("--min-confidence", type=float, default=0.0, help="minimum confidence of the tags (0-100)")
    search.add_argument("--limit", type=int, default=50)
    search.add_argument("--cursor", help="the next page: the cursor the previous page printed (next_cursor)")
    search.add_argument("--json", action="store_true")
    add_data_options(search)
    search.set_defaults(func=_search)

    stats = subparsers.add_parser("stats", help="most frequent tags and pipeline counts")
    stats.add_argument("--top", type=int, default=20)
    stats.add_argument("--json", action="store_true")
    add_data_options(stats)
    stats.set_defaults(func=_stats)

    executions = subparsers.add_parser("executions", help="workflow executions")
    ex_sub = executions.add_subparsers(dest="executions_command", metavar="ACTION", required=True)
    ex_list = ex_sub.add_parser("list", help="latest executions")
    ex_list.add_argument("--status", choices=EXECUTION_STATUSES, type=str.upper)
    ex_list.add_argument("--limit", type=int, default=50)
    ex_list.add_argument("--json", action="store_true")
    add_data_options(ex_list)
    ex_list.set_defaults(func=_executions_list)
    ex_show = ex_sub.add_parser("show", help="one execution with its event history")
    ex_show.add_argument("id", help="execution name or ARN")
    ex_show.add_argument("--json", action="store_true")
    add_data_options(ex_show)
    ex_show.set_defaults(func=_executions_show)

    dlq = subparsers.add_parser("dlq", help="dead letters: what could not be tagged or indexed, and why")
    dlq_sub = dlq.add_subparsers(dest="dlq_command", metavar="ACTION", required=True)
    dlq_list = dlq_sub.add_parser("list", help="dead letters of both queues with their reasons")
    dlq_list.add_argument("--json", action="store_true")
    add_data_options(dlq_list)
    dlq_list.set_defaults(func=_dlq_list)
    dlq_redrive = dlq_sub.add_parser("redrive", help="run dead letters again (all, or the given message ids)")
    dlq_redrive.add_argument("ids", nargs="*", metavar="ID")
    dlq_redrive.add_argument("--timeout", type=float, default=600.0)
    add_pipeline_options(dlq_redrive)
    dlq_redrive.set_defaults(func=_dlq_redrive)


# -- tag --------------------------------------------------------------------------------------

def collect_files(paths: Iterable[Path], prefix: str = "") -> list[tuple[Path, str]]:
    """(file, key) pairs: files as given (named by their file name), folders walked for images
    (named by their path relative to the folder's parent, so `photos/` keeps its name)."""
    found: list[tuple[Path, str]] = []
    for path in paths:
        if path.is_file():
            found.append((path, prefix + path.name))
        elif path.is_dir():
            images = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in MEDIA_TYPE_BY_SUFFIX)
            if not images:
                raise UserError(f"no .jpg, .jpeg or .png files in {path}")
            base = path.resolve().parent
            found.extend((p, prefix + p.resolve().relative_to(base).as_posix()) for p in images)
        else:
            raise UserError(f"no such file or folder: {path}")
    keys = [key for _, key in found]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise UserError(f"two files would get the same key {duplicates[0]!r}; tag them separately or use --prefix")
    return found


def _tag(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from autotagger.local.bucket import InvalidObjectKey

    files = collect_files(args.paths, args.prefix)
    settings = settings_from_args(args)
    show_progress = len(files) > 1 and not args.json
    uploaded: list[tuple[Path, Any]] = []
    with open_pipeline(settings) as pipeline:
        with tqdm(total=len(files), desc="tagging", unit="image", file=sys.stderr, disable=not show_progress) as bar:
            base = pipeline.completed
            for path, key in files:
                try:
                    data = path.read_bytes()
                except OSError as exc:
                    raise UserError(f"cannot read {path}: {exc.strerror}") from None
                if not data:
                    raise UserError(f"{path} is empty")
                content_type = MEDIA_TYPE_BY_SUFFIX.get(path.suffix.lower(), "application/octet-stream")
                try:
                    uploaded.append((path, pipeline.upload(key, data, content_type)))
                except InvalidObjectKey as exc:
                    raise UserError(f"{path}: {exc}") from None
                bar.update(max(0, pipeline.completed - base - bar.n))
            deadline = time.monotonic() + args.timeout
            while not pipeline.wait_idle(timeout=0.2):
                bar.update(max(0, pipeline.completed - base - bar.n))
                if time.monotonic() > deadline:
                    raise UserError(f"tagging did not finish within {args.timeout:g} s")
            bar.update(len(files) - bar.n)
        results = [tag_result(pipeline.stores, path, stored) for path, stored in uploaded]
    if args.json:
        _print_json(results)
    else:
        rows = [[r["file"], _labels_text(r["labels"]) if r["status"] == "tagged"
                 else f"FAILED {r['error']}: {r['cause']}"] for r in results]
        print(_table(rows, ["FILE", "LABELS"]))
    failed = sum(r["status"] != "tagged" for r in results)
    if failed:
        print(f"autotagger: {failed} of {len(results)} file(s) could not be tagged; see `autotagger dlq list`",
              file=sys.stderr)
    return 1 if failed else 0


def tag_result(stores: Any, path: Path, stored: Any) -> dict[str, Any]:
    """What became of one upload: its index document, or the dead letter that explains why not."""
    outcome = stores.upload_outcome(stored.bucket, stored.key, stored.sequencer)
    result: dict[str, Any] = {"file": str(path), "key": stored.key, "id": outcome["id"]}
    if outcome["status"] == "indexed":
        document = outcome["document"]
        return {**result, "status": "tagged", "labels": document.get("labels", []), "tags": document.get("tags", [])}
    if outcome["status"] == "dead_lettered":
        letter = outcome["dead_letter"]
        return {**result, "status": "failed", "error": letter["reason"]["error"],
                "cause": letter["reason"]["cause"], "message_id": letter["message_id"]}
    cause = ("a newer upload or delete of the key replaced it" if outcome["status"] == "superseded"
             else "neither indexed nor dead-lettered")
    return {**result, "status": "failed", "error": "Autotagger.Unknown", "cause": cause}


# -- read-only commands -----------------------------------------------------------------------

def _search(args: argparse.Namespace) -> int:
    if not 0 <= args.min_confidence <= 100:
        raise UserError("--min-confidence must be between 0 and 100")
    if args.limit < 1:
        raise UserError("--limit must be at least 1")
    stores = open_stores(args)
    try:
        found = stores.index.search(tags=args.tag or None, min_confidence=args.min_confidence, limit=args.limit,
                                    cursor=args.cursor)
    except InvalidCursor as exc:
        raise UserError(f"--cursor: {exc}") from None
    finally:
        stores.close()
    if args.json:
        _print_json(found)
        return 0
    rows = [[d["key"], ", ".join(d.get("tags", [])), d.get("indexed_at") or ""] for d in found["images"]]
    print(_table(rows, ["KEY", "TAGS", "INDEXED AT"]))
    print(f"{found['total']} image(s) match", file=sys.stderr)
    if found.get("next_cursor"):
        print(f"more: --cursor {found['next_cursor']}", file=sys.stderr)
    return 0


def _stats(args: argparse.Namespace) -> int:
    if args.top < 1:
        raise UserError("--top must be at least 1")
    stores = open_stores(args)
    try:
        tags = stores.index.tag_counts(top=args.top)
        summary = stores.summary()
    finally:
        stores.close()
    if args.json:
        _print_json({"summary": summary, "tags": tags})
        return 0
    executions = ", ".join(f"{n} {status.lower()}" for status, n in summary["executions"].items() if n) or "none"
    print(f"images indexed: {summary['images_indexed']} ({summary['flagged']} flagged by moderation, "
          f"{summary['analysis_errors']} with an analysis error)")
    print(f"executions: {executions}")
    print(f"stream records pending: {summary['stream_records_pending']}")
    print(f"dead letters: {summary['dead_letters']['workflow']} workflow, {summary['dead_letters']['indexer']} indexer")
    if tags:
        print()
        print(_table([[t["tag"], str(t["count"])] for t in tags], ["TAG", "IMAGES"]))
    return 0


def _executions_list(args: argparse.Namespace) -> int:
    stores = open_stores(args)
    try:
        executions = stores.list_executions(status=args.status, limit=args.limit)
    finally:
        stores.close()
    if args.json:
        _print_json(executions)
        return 0
    rows = [[e["name"], e["status"], e["start_date"] or "", e.get("error") or ""] for e in executions]
    print(_table(rows, ["NAME", "STATUS", "STARTED", "ERROR"]))
    return 0


def _executions_show(args: argparse.Namespace) -> int:
    stores = open_stores(args)
    try:
        execution = stores.get_execution(args.id)
    finally:
        stores.close()
    if execution is None:
        raise UserError(f"no execution {args.id!r} (see `autotagger executions list`)")
    if args.json:
        _print_json(execution)
        return 0
    print(f"{execution['name']}  {execution['status']}")
    print(f"  arn:     {execution['arn']}")
    print(f"  started: {execution['start_date']}  stopped: {execution['stop_date']}")
    if execution.get("error"):
        print(f"  error:   {execution['error']}: {execution['cause']}")
        print(f"  failed in state: {execution.get('failed_state')}")
    print()
    rows = []
    for event in execution["history"]:
        details = event.get("stateEnteredEventDetails") or event.get("stateExitedEventDetails") or {}
        rows.append([str(event.get("id", "")), event.get("timestamp", ""), event["type"], details.get("name", "")])
    print(_table(rows, ["ID", "TIME", "EVENT", "STATE"]))
    return 0


def _dlq_list(args: argparse.Namespace) -> int:
    stores = open_stores(args)
    try:
        letters = stores.dead_letters(limit=1000)
    finally:
        stores.close()
    if args.json:
        _print_json(letters)
        return 0
    rows = []
    for queue, messages in letters.items():
        for m in messages:
            body = m["body"] if isinstance(m["body"], dict) else {}
            key = ((body.get("event") or {}).get("detail") or {}).get("object", {}).get("key", "")
            rows.append([m["message_id"], queue, key, m["reason"]["error"] or "", m["reason"]["cause"] or ""])
    print(_table(rows, ["MESSAGE ID", "QUEUE", "KEY", "ERROR", "CAUSE"]))
    return 0


def _dlq_redrive(args: argparse.Namespace) -> int:
    with open_pipeline(settings_from_args(args)) as pipeline:
        outcome = pipeline.redrive(args.ids or None)
        if not pipeline.wait_idle(timeout=args.timeout):
            raise UserError(f"redriven work did not finish within {args.timeout:g} s")
    for message_id in outcome["redriven"]:
        print(f"redriven {message_id}")
    for message_id in outcome["not_found"]:
        print(f"autotagger: no dead letter {message_id}", file=sys.stderr)
    return 1 if outcome["not_found"] else 0
