"""`autotagger reprocess`: run the tagging workflow again on stored objects (locally or on AWS),
and, with `--aws --dlq-url`, redrive the deployed workflow's dead letters. See autotagger.reprocess.

By default it runs the backfill (statemachine/backfill.asl.json, a Distributed Map): locally in
this process, with --aws the deployed one, followed through its Map Run. `--since` or `--rate`
instead start one execution per object from here, paced and checkpointed."""

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
        description="Runs the backfill (statemachine/backfill.asl.json): a Distributed Map over the bucket whose "
                    "items run the tagging workflow as child executions. Resumable by re-running: objects this "
                    "run (a digest of labeler, model version and settings) already tagged are skipped. Locally it "
                    "runs the pipeline in this process (stop `autotagger serve` on the same data dir first); with "
                    "--aws it starts the deployed backfill and follows its Map Run. With --since or --rate it "
                    "starts one execution per object from here instead, paced and checkpointed.")
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
    parser.add_argument("--json", action="store_true", help="print the backfill's summary as JSON: "
                        '{"execution": NAME, "items": {"succeeded": N, "failed": M}}')
    parser.add_argument("--aws", action="store_true", help="start the deployed backfill (or executions of the "
                                                           "deployed state machine with --since/--rate)")
    parser.add_argument("--stack-name", default="Autotagger", help="with --aws: the stack whose outputs name the "
                                                                    "state machines (default Autotagger)")
    parser.add_argument("--backfill-state-machine-arn", default=None,
                        help="with --aws: the backfill state machine (default: the stack output "
                             "BackfillStateMachineArn)")
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
    if args.state_machine_arn or args.dlq_url or args.backfill_state_machine_arn:
        raise UserError("--state-machine-arn, --backfill-state-machine-arn and --dlq-url need --aws")
    return _local(args, since)


def _paced(args: argparse.Namespace) -> bool:
    """One execution per object from here (the checkpointed walker) rather than the backfill."""
    return args.since is not None or args.rate is not None


def _local(args: argparse.Namespace, since) -> int:
    from tqdm import tqdm

    from autotagger.cli.pipeline_cmds import open_pipeline, settings_from_args
    from autotagger.reprocess import count_local, reconcile_local, reprocess_local

    with open_pipeline(settings_from_args(args)) as pipeline:
        if args.reconcile:
            repaired = reconcile_local(pipeline, rate=args.rate)
            if not pipeline.wait_idle(timeout=args.timeout):
                raise UserError(f"the repairs did not finish within {args.timeout:g} s; "
                                "they continue on the next start")
            for key in repaired.tagged:
                print(f"tagged {key} (stored, never run)")
            for key in repaired.deleted:
                print(f"deleted {key} (indexed, gone from the bucket)")
            print(f"reconciled: {len(repaired.tagged)} run, {len(repaired.deleted)} deleted")
            return 0
        if not _paced(args):
            from autotagger.reprocess import backfill_local

            with tqdm(total=0, desc="backfill", unit="object", file=sys.stderr) as bar:
                def progress(map_run: dict) -> None:
                    counts = map_run["itemCounts"]
                    bar.total = counts["total"]
                    bar.n = counts["succeeded"] + counts["failed"] + counts["timedOut"] + counts["aborted"]
                    bar.set_postfix(failed=counts["failed"], running=counts["running"], refresh=False)
                    bar.refresh()

                summary = backfill_local(pipeline, prefix=args.prefix, run=args.run, restart=args.restart,
                                         progress=progress)
            if not pipeline.wait_idle(timeout=args.timeout):
                raise UserError(f"the records were not indexed within {args.timeout:g} s; they are on the stream "
                                "and indexed on the next start")
        else:
            summary = None
        if summary is not None:
            return _report_backfill(summary, args.json)
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

    if not args.dlq_url and not _paced(args):
        return _aws_backfill(args)
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
    from autotagger.reprocess import run_id

    run = args.run or run_id("aws", args.state_machine_arn)
    checkpoint = args.checkpoint or Path(args.data_dir) / "reprocess" / f"aws-{run}.json"
    result = reprocess_aws(sfn, boto3.client("s3", region_name=region), state_machine_arn=args.state_machine_arn,
                           bucket=args.bucket, prefix=args.prefix, since=since, rate=args.rate, run=run,
                           checkpoint_file=checkpoint, restart=args.restart,
                           progress=lambda n: print(".", end="", file=sys.stderr, flush=True))
    print(file=sys.stderr)
    _report(result)
    return 0


def _report(result) -> None:
    resumed = f", resumed after {result.resumed_after!r}" if result.resumed_after else ""
    print(f"run {result.run}: {len(result.started)} execution(s) started, {len(result.already_run)} already run"
          f"{resumed}")


def _aws_backfill(args: argparse.Namespace) -> int:
    import boto3

    from autotagger.reprocess import _arn_parts, backfill_aws, stack_output

    arns = {"backfill": args.backfill_state_machine_arn, "tagging": args.state_machine_arn}
    if not all(arns.values()):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            cloudformation = boto3.client("cloudformation")
            arns["backfill"] = arns["backfill"] or stack_output(cloudformation, args.stack_name,
                                                                "BackfillStateMachineArn")
            arns["tagging"] = arns["tagging"] or stack_output(cloudformation, args.stack_name, "StateMachineArn")
        except (KeyError, BotoCoreError, ClientError) as exc:
            raise UserError(f"cannot read the outputs of stack {args.stack_name} ({exc}): pass "
                            "--backfill-state-machine-arn and --state-machine-arn, or set the AWS region and "
                            "credentials") from None
    try:
        region, _ = _arn_parts(str(arns["backfill"]))
    except ValueError as exc:
        raise UserError(str(exc)) from None

    def progress(map_run: dict) -> None:
        counts = map_run.get("itemCounts", {})
        print(f"map run {map_run.get('status')}: {counts.get('succeeded', 0)}/{counts.get('total', 0)} succeeded, "
              f"{counts.get('failed', 0)} failed, {counts.get('running', 0)} running, "
              f"{counts.get('pending', 0)} pending", file=sys.stderr)

    summary = backfill_aws(boto3.client("stepfunctions", region_name=region), state_machine_arn=str(arns["backfill"]),
                           tagging_state_machine_arn=str(arns["tagging"]), prefix=args.prefix, run=args.run,
                           restart=args.restart, progress=progress)
    return _report_backfill(summary, args.json)


def _report_backfill(summary, as_json: bool) -> int:
    """The summary on stdout; exit 1 when the backfill did not succeed (its failed items are dead letters)."""
    import json

    if as_json:
        print(json.dumps(summary.as_json()))
    else:
        print(f"backfill {summary.execution}: {summary.status}, {summary.succeeded} item(s) succeeded, "
              f"{summary.failed} failed")
    if summary.status != "SUCCEEDED":
        print(f"autotagger: backfill {summary.execution} {summary.status}: {summary.error}: {summary.cause}",
              file=sys.stderr)
        return 1
    return 0
