"""bin/counters — upload counter files, query aggregates, manage thresholds and errors, run locally.

Every command takes --endpoint-url (or AWS_ENDPOINT_URL), --region and --stack-name, so the
same command works against the local stack (`bin/counters up`) and a real AWS account.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import signal
import sys
import threading
import time
import uuid
from pathlib import Path

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ProfileNotFound,
)

from aggregator.cli.context import DEFAULT_STACK, CliError, Target, is_loopback
from aggregator.cli.output import FORMATS, render
from aggregator.deploy.package import PackagingError
from aggregator.deploy.stack import DeployError
from aggregator.domain.counter_file import NAME_PATTERN, MalformedFile, parse_counter_file
from aggregator.domain.errors import AggregatorError
from aggregator.domain.keys import date_prefix, parse_date, upload_key
from aggregator.domain.ordering import SAMPLED_AT_METADATA, epoch_ms
from aggregator.usecases.ingest import APPLIED
from aggregator.usecases.repair import DateRepair, repair_date, repair_stream_failures

STACK_NAME = re.compile(r"[a-z][a-z0-9-]{0,31}")


def _date(text: str) -> str:
    try:
        return parse_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _counter_name(text: str) -> str:
    if not NAME_PATTERN.fullmatch(text.encode()):
        raise argparse.ArgumentTypeError(f"counter name {text!r} must be 1-255 of letters, digits, _ . : / -")
    return text


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from exc


def _today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


# ---------------------------------------------------------------- commands


def cmd_up(args: argparse.Namespace) -> int:
    """Run the local stack in the foreground until SIGINT/SIGTERM."""
    from aggregator.local.server import LocalStack

    target = Target.from_args(args)
    stack = LocalStack(port=args.port, stack_name=target.stack_name, region=target.region)
    stopping = _stop_on_signals()
    try:
        stack.start()
    except OSError as exc:
        raise CliError(f"cannot start the local stack on port {args.port}: {exc.strerror or exc}") from exc
    print(f"ready {stack.endpoint_url}", flush=True)
    print(
        f"stack '{stack.stack_name}' in {stack.region}; in another shell:\n"
        f"  export AWS_ENDPOINT_URL={stack.endpoint_url}\n"
        f"  bin/counters upload FILE --instance i-0abc\n"
        f"  bin/counters query --date {_today()}\n"
        f"Ctrl-C stops it (all data is in memory and goes with it).",
        flush=True,
    )
    stopping.wait()
    print("stopping", flush=True)
    stack.stop()
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the functions of a stack already deployed on an emulator, until SIGINT/SIGTERM."""
    from aggregator.local.server import LOCAL_CREDENTIALS, serve_functions, silence_local_noise

    target = Target.from_args(args)
    if not is_loopback(target.endpoint_url):
        raise CliError("serve plays Lambda on an emulator: give --endpoint-url of a local moto server")
    silence_local_noise()
    stopping = _stop_on_signals()
    target.output("BucketName")  # fails with a clear message when the stack is missing
    for name, value in LOCAL_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    os.environ["AWS_ENDPOINT_URL"] = target.endpoint_url
    runner = serve_functions(target.clients, target.stack_name, target.region)
    print(f"serving the functions of stack '{target.stack_name}' at {target.endpoint_url}", flush=True)
    stopping.wait()
    runner.stop()
    return 0


def cmd_deploy(args: argparse.Namespace) -> int:
    """Package, upload, and deploy the template through a change set; print changes and outputs."""
    from aggregator.deploy.workflow import deploy

    target = Target.from_args(args)
    if not STACK_NAME.fullmatch(target.stack_name):
        raise CliError(
            f"stack name {target.stack_name!r} must be 1-32 of lowercase letters, digits and '-', "
            "starting with a letter (it is part of the bucket name)"
        )
    parameters = dict(args.parameter or [])
    if is_loopback(target.endpoint_url):
        parameters.setdefault("Emulated", "true")
    print(f"deploying stack '{target.stack_name}' to {target.endpoint_url or 'AWS'} ({target.region})", flush=True)
    try:
        result = deploy(
            target.clients,
            target.stack_name,
            target.region,
            parameters,
            dry_run=args.dry_run,
            poll_seconds=0.2 if is_loopback(target.endpoint_url) else 5.0,
            report=lambda line: print(line, flush=True),
        )
    except (DeployError, PackagingError) as exc:
        raise CliError(str(exc)) from exc
    if result.status == "unchanged":
        print("no changes: the stack already matches this code and these parameters (no change set executed)")
    else:
        title = "changes (not executed: --dry-run)" if result.status == "dry-run" else f"stack {result.status}"
        rows = [
            {"action": c.action, "resource": c.logical_id, "type": c.resource_type, "replacement": c.replacement}
            for c in result.changes
        ]
        if rows:
            render(rows, ("action", "resource", "type", "replacement"), "table", title=title)
        else:
            print(f"{title}: the endpoint listed no resource-level changes")
    if result.outputs:
        render(
            [{"output": k, "value": v} for k, v in sorted(result.outputs.items())],
            ("output", "value"),
            "table",
            title="outputs",
        )
    return 0


def cmd_destroy(args: argparse.Namespace) -> int:
    from aggregator.deploy.stack import destroy_stack, retained_resources, stack_status
    from aggregator.deploy.template import TEMPLATE_PATH

    target = Target.from_args(args)
    cfn = target.clients("cloudformation")
    if stack_status(cfn, target.stack_name) is None:
        raise CliError(f"stack '{target.stack_name}' not found at {target.endpoint_url or target.region}")
    body = cfn.get_template(StackName=target.stack_name)["TemplateBody"]
    kept = retained_resources(body if isinstance(body, str) else TEMPLATE_PATH.read_text())
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(StackName=target.stack_name)["StackResources"]
        if r.get("LogicalResourceId")
    }
    print(f"deleting stack '{target.stack_name}'; these keep their data and stay (DeletionPolicy Retain):")
    for logical_id in kept:
        print(f"  {logical_id}: {physical.get(logical_id, '(not created)')}")
    if not args.yes:
        if not sys.stdin.isatty():
            raise CliError("refusing to delete without confirmation: pass --yes")
        if input(f"type the stack name ({target.stack_name}) to confirm: ").strip() != target.stack_name:
            raise CliError("not confirmed; nothing deleted")
    try:
        destroy_stack(cfn, target.stack_name, poll_seconds=0.2 if is_loopback(target.endpoint_url) else 5.0)
    except DeployError as exc:
        raise CliError(str(exc)) from exc
    print(
        f"stack '{target.stack_name}' deleted; delete the retained bucket and tables by hand when their data "
        "is no longer needed"
    )
    return 0


def _stop_on_signals() -> threading.Event:
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    return stopping


def _parameter(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"parameter {text!r} must be written KEY=VALUE")
    return name, value


def cmd_bench(args: argparse.Namespace) -> int:
    """Write units and requests beside the naive design, local freshness, parser speed."""
    from aggregator.bench.report import print_tables, run_bench, write_chart

    latency = {}
    if args.latency_instances:
        latency["instances"] = args.latency_instances
    if args.latency_counters:
        latency["counters"] = args.latency_counters
    if args.minute_seconds:
        latency["minute_seconds"] = args.minute_seconds
    result = run_bench(
        quick=args.quick, latency_options=latency, progress=lambda line: print(f"… {line}", file=sys.stderr, flush=True)
    )
    chart = write_chart(result, Path(args.chart))
    result["chart"] = str(chart)
    if args.format == "json":
        print(json.dumps(result, indent=2))
    else:
        print_tables(result)
        print(f"chart: {chart}")
    return 0


def cmd_soak(args: argparse.Namespace) -> int:
    from aggregator.cli.soak import run_soak

    return run_soak(args)


def cmd_verify(args: argparse.Namespace) -> int:
    from aggregator.verify.cli import verify

    return verify(args.schedules, args.seed, args.workers)


def cmd_demo(args: argparse.Namespace) -> int:
    from aggregator.cli.demo import run_demo

    return run_demo(args)


def cmd_upload(args: argparse.Namespace) -> int:
    """What an instance runs every minute: upload its counter file with the sample time."""
    target = Target.from_args(args)
    path = Path(args.file)
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        counters = parse_counter_file(body)
        note = f"{len(counters)} counters"
    except MalformedFile as exc:
        # Upload anyway: the pipeline quarantines it where ops can see and replay it.
        print(f"warning: {path} is malformed ({exc}); the pipeline will quarantine it", file=sys.stderr)
        note = "malformed"
    try:
        key = upload_key(args.date or _today(), args.instance, target.key_prefix)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    sampled_at = args.sampled_at if args.sampled_at is not None else epoch_ms(dt.datetime.now(dt.UTC))
    version = target.objects().put(key, body, "text/plain; charset=utf-8", {SAMPLED_AT_METADATA: str(sampled_at)})
    bucket = target.output("BucketName")
    print(f"uploaded s3://{bucket}/{key} ({note}{', version ' + version if version else ''})")
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    target = Target.from_args(args)
    values = target.aggregates().query_date(args.date, args.counter)
    rows = [{"counter": name, "date": args.date, "value": values[name]} for name in sorted(values)]
    if not rows and args.format == "table":
        print(f"no aggregates for {args.date}" + (f" and counter {args.counter}" if args.counter else ""))
        return 0
    render(rows, ("counter", "date", "value"), args.format, title=f"aggregates for {args.date}")
    return 0


def cmd_thresholds(args: argparse.Namespace) -> int:
    target = Target.from_args(args)
    table = target.thresholds()
    if args.action == "set":
        table.set(args.name, args.value)
        print(f"threshold for {args.name} set to {args.value} (ALARM while the sum is above it)")
    elif args.action == "delete":
        if not table.delete(args.name):
            raise CliError(f"no threshold is set for {args.name}")
        print(f"threshold for {args.name} deleted")
    else:
        rows = [{"counter": name, "threshold": value} for name, value in sorted(table.all().items())]
        if not rows and args.format == "table":
            print("no thresholds set")
            return 0
        render(rows, ("counter", "threshold"), args.format, title="thresholds")
    return 0


def cmd_alerts(args: argparse.Namespace) -> int:
    target = Target.from_args(args)
    if args.follow:
        return _follow_alerts(target)
    rows = [
        {
            "counter": row["Counter"],
            "date": row["Date"],
            "state": row.get("State"),
            "value": row.get("Value"),
            "threshold": row.get("Threshold"),
            "changed_at": row.get("ChangedAt"),
        }
        for row in target.alert_states().list_all()
        if args.date is None or row["Date"] == args.date
    ]
    rows.sort(key=lambda r: (r["changed_at"] or "", r["counter"]), reverse=True)
    if not rows and args.format == "table":
        print("no alerts yet")
        return 0
    render(rows, ("counter", "date", "state", "value", "threshold", "changed_at"), args.format, title="alert states")
    return 0


def _follow_alerts(target: Target) -> int:
    """Subscribe a temporary queue to the alerts topic and print each message as it arrives."""
    sqs, sns = target.clients("sqs"), target.clients("sns")
    topic_arn = target.output("AlertsTopicArn")
    queue_url = sqs.create_queue(QueueName=f"counters-alerts-follow-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.set_queue_attributes(
        QueueUrl=queue_url,
        Attributes={
            "Policy": json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "sns.amazonaws.com"},
                            "Action": "sqs:SendMessage",
                            "Resource": queue_arn,
                            "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
                        }
                    ],
                }
            )
        },
    )
    subscription = sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    print("following alerts (Ctrl-C to stop)", flush=True)
    try:
        while True:
            for message in sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=5, MaxNumberOfMessages=10).get(
                "Messages", []
            ):
                alert = json.loads(message["Body"])
                print(
                    f"{alert.get('at')} {alert.get('state'):5} {alert.get('counter')} {alert.get('date')} "
                    f"value={alert.get('value')} previous={alert.get('previousValue')} "
                    f"threshold={alert.get('threshold')}",
                    flush=True,
                )
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    except KeyboardInterrupt:
        return 0
    finally:
        sns.unsubscribe(SubscriptionArn=subscription)
        sqs.delete_queue(QueueUrl=queue_url)


def cmd_errors(args: argparse.Namespace) -> int:
    target = Target.from_args(args)
    rows = [
        {
            "key": row["ObjectKey"],
            "version": row.get("Version"),
            "kind": row.get("Kind"),
            "reason": row.get("Reason"),
            "position": row.get("Position"),
            "attempts": row.get("Attempts"),
            "last_seen": row.get("LastSeenAt"),
        }
        for row in target.quarantine().list_all()
    ]
    sqs = target.clients("sqs")
    queues = {
        "dead-letter queue (uploads)": target.output("DeadLetterQueueUrl"),
        "stream failures": target.outputs.get("StreamFailureQueueUrl"),
    }
    depths = {}
    for label, url in queues.items():
        if url:
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
            depths[label] = int(attributes["Attributes"]["ApproximateNumberOfMessages"])
    if args.format == "json":
        print(json.dumps({"quarantined": rows, "queues": depths}, indent=2, default=str))
        return 0
    if rows:
        render(
            rows,
            ("key", "version", "kind", "reason", "position", "attempts", "last_seen"),
            args.format,
            title="quarantined uploads",
        )
    elif args.format == "table":
        print("no quarantined uploads")
    if args.format == "table":
        for label, depth in depths.items():
            print(
                f"{label}: {depth} message(s)"
                + ("  → bin/counters replay --dead-letters" if depth and "dead" in label else "")
            )
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    target = Target.from_args(args)
    if args.dead_letters:
        moved = target.queue("DeadLetterQueueUrl").move_all_to(target.queue("IngestQueueUrl"))
        print(f"moved {moved} message(s) from the dead-letter queue back to the ingest queue")
        return 0
    if args.stream_failures:
        return _repair_stream_failures(target)
    ingestor = target.ingestor()
    keys = [args.key] if args.key else list(target.objects().keys(date_prefix(args.date, target.key_prefix)))
    if not keys:
        raise CliError(f"no uploads found for {args.date}")
    failures = 0
    for key in keys:
        result = ingestor.replay(key)
        if result.status == APPLIED:
            print(f"applied  {key}: {result.written} counter(s) written, {result.skipped} already current")
        else:
            failures += 1
            print(f"FAILED   {key}: {result.reason}")
    if args.date:
        _print_repair(_repairer(target)(args.date))
    return 1 if failures else 0


def _repairer(target: Target):
    values, aggregates, alerter = target.instance_values(), target.aggregates(), target.alerter()
    marker = f"repair-{time.time_ns() // 1_000_000}"
    return lambda date: repair_date(date, values, aggregates, alerter, marker)


def _print_repair(repair: DateRepair) -> None:
    print(f"recomputed the aggregates of {repair.date}: {repair.corrected} corrected")
    for alert in repair.alerts:
        print(f"announced {alert.state} for {alert.counter} {alert.date} = {alert.value} (threshold {alert.threshold})")


def _repair_stream_failures(target: Target) -> int:
    result = repair_stream_failures(target.queue("StreamFailureQueueUrl"), target.stream_reader(), _repairer(target))
    for repair in result.repaired:
        _print_repair(repair)
    print(f"repaired {len(result.repaired)} date(s) named by {result.messages} failed stream batch(es)")
    for description in result.unreadable:
        print(f"LEFT QUEUED {description}: repair its date with bin/counters replay --date D")
    return 1 if result.unreadable else 0


# ---------------------------------------------------------------- parser


def _common(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("where")
    group.add_argument("--endpoint-url", default=argparse.SUPPRESS, help="AWS endpoint (default: $AWS_ENDPOINT_URL)")
    group.add_argument("--region", default=argparse.SUPPRESS, help="AWS region (default: $AWS_REGION or us-east-1)")
    group.add_argument("--stack-name", default=argparse.SUPPRESS, help=f"stack name (default: {DEFAULT_STACK})")
    group.add_argument("--profile", default=argparse.SUPPRESS, help="AWS profile")


class OneLineErrorParser(argparse.ArgumentParser):
    """Usage mistakes are reported on one line, like every other error of this tool."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(prog="counters", description=__doc__.split("\n")[0])
    _common(parser)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=OneLineErrorParser)

    def command(name: str, func, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        _common(p)
        p.set_defaults(func=func)
        return p

    p = command("up", cmd_up, "run the whole system locally (embedded AWS) until Ctrl-C")
    p.add_argument("--port", type=int, default=4566, help="loopback port for the embedded AWS (0: any free port)")

    p = command("deploy", cmd_deploy, "package the code and deploy the stack through a change set")
    p.add_argument(
        "--parameter",
        action="append",
        type=_parameter,
        metavar="KEY=VALUE",
        help="template parameter (repeatable); parameters not given keep their previous value",
    )
    p.add_argument("--dry-run", action="store_true", help="print the change set without executing it")

    p = command("destroy", cmd_destroy, "delete the stack (the bucket and tables are retained with their data)")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    command("serve", cmd_serve, "run the functions of a stack deployed on an emulator (what `up` does after deploying)")

    p = command("bench", cmd_bench, "measure write cost (ours and a naive baseline), freshness and parser speed")
    p.add_argument("--quick", action="store_true", help="small sizes: a smoke run of every measurement")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--chart", default="bench-cost.png", help="where to write the PNG chart (default: %(default)s)")
    p.add_argument("--latency-instances", type=int, help="instances for the freshness run (default 100)")
    p.add_argument("--latency-counters", type=int, help="counters per file for the freshness run (default 100)")
    p.add_argument("--minute-seconds", type=float, help="length of one upload minute, compressed (default 60)")

    p = command("soak", cmd_soak, "play the fleet's workload against a running stack; report backlog and freshness")
    p.add_argument("--instances", type=int, default=100)
    p.add_argument("--counters", type=int, default=100)
    p.add_argument("--minutes", type=int, default=3, help="upload rounds (one upload per instance per minute)")
    p.add_argument("--minute-seconds", type=float, default=60.0, help="how long a minute lasts (time compression)")
    p.add_argument("--sample-seconds", type=float, default=1.0)
    p.add_argument("--drain-timeout", type=float, default=900.0)
    p.add_argument("--date", type=_date)
    p.add_argument("--seed", type=int, default=11)

    p = command("verify", cmd_verify, "run randomised fault schedules against the functions (on moto, in-process)")
    p.add_argument("--schedules", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0, help="first seed; schedule i uses seed+i")
    p.add_argument("--workers", type=int, default=1, help="processes running schedules side by side")

    p = command("demo", cmd_demo, "start the local stack, simulate a fleet, show aggregates and alerts")
    p.add_argument("--instances", type=int, default=20)
    p.add_argument("--counters", type=int, default=50)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seed", type=int, default=7)

    p = command("upload", cmd_upload, "upload an instance's counter file (what cron runs every minute)")
    p.add_argument("file", help="counter file: whitespace-separated NAME VALUE pairs")
    p.add_argument("--instance", required=True, help="this instance's id, e.g. i-0abc123")
    p.add_argument("--date", type=_date, help="YYYY-MM-DD (default: today, UTC)")
    p.add_argument("--sampled-at", type=int, help="sample time in epoch milliseconds (default: now)")

    p = command("query", cmd_query, "aggregates of one date (all counters, via the ByDate index)")
    p.add_argument("--date", type=_date, required=True)
    p.add_argument("--counter", type=_counter_name)
    p.add_argument("--format", choices=FORMATS, default="table")

    p = command("thresholds", cmd_thresholds, "set, list or delete per-counter alert thresholds")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=OneLineErrorParser)
    a = actions.add_parser("set", help="set NAME's threshold: ALARM while the sum is above VALUE")
    a.add_argument("name", type=_counter_name)
    a.add_argument("value", type=_integer)
    a = actions.add_parser("delete", help="delete NAME's threshold")
    a.add_argument("name", type=_counter_name)
    a = actions.add_parser("list", help="list thresholds")
    a.add_argument("--format", choices=FORMATS, default="table")
    for a in actions.choices.values():
        _common(a)

    p = command("alerts", cmd_alerts, "alert states (last transition per counter and date), or --follow new ones")
    p.add_argument("--follow", action="store_true", help="print alerts as they are published")
    p.add_argument("--date", type=_date)
    p.add_argument("--format", choices=FORMATS, default="table")

    p = command("errors", cmd_errors, "quarantined uploads and dead-letter queue depths")
    p.add_argument("--format", choices=FORMATS, default="table")

    p = command("replay", cmd_replay, "re-apply uploads after a fix (by key or whole date), or redrive dead letters")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--date", type=_date, help="re-ingest every upload of the date and recompute its aggregates")
    which.add_argument("--key", help="re-ingest one object key (its current version)")
    which.add_argument(
        "--dead-letters", action="store_true", help="move dead-lettered messages back to the ingest queue"
    )
    which.add_argument(
        "--stream-failures",
        action="store_true",
        help="recompute and re-announce every date a failed stream batch touched, then drop the batch",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
    except EndpointConnectionError as exc:
        print(
            f"error: cannot reach {exc.kwargs.get('endpoint_url')}: is `bin/counters up` running, "
            "or is --endpoint-url right?",
            file=sys.stderr,
        )
    except NoCredentialsError:
        print(
            "error: no AWS credentials found: configure a profile (--profile) or set AWS_ACCESS_KEY_ID", file=sys.stderr
        )
    except (ProfileNotFound, NoRegionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        print(f"error: AWS refused {exc.operation_name}: {error.get('Code')}: {error.get('Message')}", file=sys.stderr)
    except (AggregatorError, BotoCoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return 2
