"""`autotagger reprocess`: run the tagging workflow again on stored objects (locally or on AWS),
and, with `--aws --dlq-url`, redrive the deployed workflow's dead letters. See autotagger.reprocess."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autotagger.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    from autotagger.cli.pipeline_cmds import add_pipeline_options
    from autotagger.contracts import DETECT_LABELS_TPS, DETECT_LABELS_TPS_OTHER_REGIONS

    quotas = ", ".join(f"{r} {q:g}" for r, q in DETECT_LABELS_TPS.items())
    parser = subparsers.add_parser(
        "reprocess", help="run the tagging workflow again on stored objects (after a model or threshold change)",
        description="Starts one workflow execution per stored object, rate-limited, resumable (a checkpoint in the "
                    "data dir) and idempotent (deterministic execution names). Locally it runs the pipeline in "
                    "this process (stop `autotagger serve` on the same data dir first); with --aws it starts "
                    "executions of the deployed state machine.")
    parser.add_argument("--prefix", default="", help="only keys starting with this")
    parser.add_argument("--since", default=None, metavar="DATE", help="only objects modified at or after this "
                                                                      "ISO 8601 date or time (UTC by default)")
    parser.add_argument("--rate", type=float, default=None, metavar="N",
                        help="executions started per second (default: the default DetectLabels TPS quota of the "
                             f"region: {quotas}, {DETECT_LABELS_TPS_OTHER_REGIONS:g} elsewhere)")
    parser.add_argument("--run", default=None, metavar="ID", help="run id in execution names and the checkpoint "
                        "(default: a digest of labeler, model version and thresholds, so an unchanged setup is "
                        "not re-run)")
    parser.add_argument("--restart", action="store_true", help="ignore the checkpoint and start from the first key")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait for local runs to finish")
    parser.add_argument("--reconcile", action="store_true",
                        help="instead: repair what a crash left (objects stored but never run, documents whose "
                             "object is gone)")
    parser.add_argument("--aws", action="store_true", help="start executions of the deployed state machine")
    parser.add_argument("--state-machine-arn", default=None, help="with --aws: the tagging state machine")
    parser.add_argument("--dlq-url", default=None, metavar="URL",
                        help="with --aws: redrive this SQS dead-letter queue instead of listing the bucket")
    parser.add_argument("--checkpoint", type=Path, default=None,
                        help="with --aws: checkpoint file (default <data dir>/reprocess/aws-<run>.json)")
    add_pipeline_options(parser)
    parser.set_defaults(func=_reprocess)


def _reprocess(args: argparse.Namespace) -> int:
    from autotagger.reprocess import parse_since

    if args.rate is not None and not args.rate > 0:
        raise UserError("--rate must be a positive number of executions per second")
    try:
        since = parse_since(args.since)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if args.aws:
        return _aws(args, since)
    if args.state_machine_arn or args.dlq_url:
        raise UserError("--state-machine-arn and --dlq-url need --aws")
    return _local(args, since)


def _local(args: argparse.Namespace, since) -> int:
    from tqdm import tqdm

    from autotagger.cli.pipeline_cmds import open_pipeline, settings_from_args
    from autotagger.reprocess import count_local, reconcile_local, reprocess_local

    with open_pipeline(settings_from_args(args)) as pipeline:
        if args.reconcile:
            repaired = reconcile_local(pipeline, rate=args.rate)
            if not pipeline.wait_idle(timeout=args.timeout):
                raise UserError(f"the repairs did not finish within {args.timeout:g} s; they continue on the next start")
            for key in repaired.tagged:
                print(f"tagged {key} (stored, never run)")
            for key in repaired.deleted:
                print(f"deleted {key} (indexed, gone from the bucket)")
            print(f"reconciled: {len(repaired.tagged)} run, {len(repaired.deleted)} deleted")
            return 0
        total = count_local(pipeline, args.prefix)
        with tqdm(total=total, desc="reprocess", unit="object", file=sys.stderr) as bar:
            result = reprocess_local(pipeline, prefix=args.prefix, since=since, rate=args.rate, run=args.run,
                                     restart=args.restart, progress=bar.update)
        if not pipeline.wait_idle(timeout=args.timeout):
            raise UserError(f"the re-runs did not finish within {args.timeout:g} s; they continue on the next start")
    _report(result)
    return 0


def _aws(args: argparse.Namespace, since) -> int:
    import boto3

    from autotagger.reprocess import _arn_parts, redrive_aws, reprocess_aws

    if not args.state_machine_arn:
        raise UserError("--aws needs --state-machine-arn (the CloudFormation output StateMachineArn)")
    try:
        region, _ = _arn_parts(args.state_machine_arn)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    sfn = boto3.client("stepfunctions", region_name=region)
    if args.dlq_url:
        outcome = redrive_aws(sfn, boto3.client("sqs", region_name=region), state_machine_arn=args.state_machine_arn,
                              queue_url=args.dlq_url, rate=args.rate)
        for name in outcome.started:
            print(f"started {name}")
        for name in outcome.already_run:
            print(f"already redriven {name}")
        for message_id in outcome.not_redrivable:
            print(f"autotagger: message {message_id} carries no original event; left in the queue", file=sys.stderr)
        return 1 if outcome.not_redrivable else 0
    index = None
    if args.index:
        from autotagger.index import open_index

        index = open_index(args.index)
    from autotagger.reprocess import run_id

    run = args.run or run_id("aws", args.state_machine_arn)
    checkpoint = args.checkpoint or Path(args.data_dir) / "reprocess" / f"aws-{run}.json"
    result = reprocess_aws(sfn, boto3.client("s3", region_name=region), state_machine_arn=args.state_machine_arn,
                           bucket=args.bucket, prefix=args.prefix, since=since, rate=args.rate, run=run,
                           checkpoint_file=checkpoint, restart=args.restart, index=index,
                           progress=lambda n: print(".", end="", file=sys.stderr, flush=True))
    print(file=sys.stderr)
    _report(result)
    return 0


def _report(result) -> None:
    resumed = f", resumed after {result.resumed_after!r}" if result.resumed_after else ""
    print(f"run {result.run}: {len(result.started)} execution(s) started, {len(result.already_run)} already run"
          f"{resumed}")
