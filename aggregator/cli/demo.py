"""`counters demo`: the local stack, a simulated fleet, the aggregates and the alerts that fired."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from aggregator.cli.output import render
from aggregator.domain.counter_file import format_counter_file
from aggregator.domain.keys import upload_key
from aggregator.domain.ordering import SAMPLED_AT_METADATA, epoch_ms

WATCHED = "rtb.bid_errors"


def fleet_round(rng: random.Random, previous: dict[str, dict[str, int]], round_number: int, counters: int):
    """Next values per instance: about half the counters change each round; WATCHED climbs then falls."""
    values = {}
    for instance, old in previous.items():
        new = {}
        for index in range(counters):
            name = WATCHED if index == 0 else f"rtb.metric_{index:03d}"
            if name == WATCHED:
                new[name] = {1: 10, 2: 400, 3: 20}.get(round_number, 20)
            elif name not in old or rng.random() < 0.5:
                new[name] = rng.randint(0, 100_000)
            else:
                new[name] = old[name]
        values[instance] = new
    return values


def run_demo(args: argparse.Namespace) -> int:
    from aggregator.local.server import LocalStack

    console = Console()
    rng = random.Random(args.seed)
    date = dt.datetime.now(dt.UTC).date().isoformat()
    instances = [f"i-{rng.getrandbits(64):016x}" for _ in range(args.instances)]
    threshold = 100 * args.instances
    console.print("starting the local stack (embedded AWS + infra/cloudformation/template.yaml) …")
    started = time.monotonic()
    stack = LocalStack(port=0).start()
    try:
        console.print(f"ready {stack.endpoint_url} in {time.monotonic() - started:.1f}s")
        clients, outputs = stack.runner.clients, stack.outputs
        s3, sqs, sns = clients("s3"), clients("sqs"), clients("sns")
        inbox = sqs.create_queue(QueueName="demo-alert-subscriber")["QueueUrl"]
        inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(
            TopicArn=outputs["AlertsTopicArn"],
            Protocol="sqs",
            Endpoint=inbox_arn,
            Attributes={"RawMessageDelivery": "true"},
        )
        clients("dynamodb").put_item(
            TableName=outputs["ThresholdsTableName"],
            Item={"Counter": {"S": WATCHED}, "Threshold": {"N": str(threshold)}},
        )
        console.print(f"threshold: {WATCHED} > {threshold} raises ALARM")
        values: dict[str, dict[str, int]] = {instance: {} for instance in instances}
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
        ) as progress:
            for round_number in range(1, args.rounds + 1):
                values = fleet_round(rng, values, round_number, args.counters)
                task = progress.add_task(f"round {round_number}: uploads", total=len(instances))
                for instance in instances:
                    s3.put_object(
                        Bucket=outputs["BucketName"],
                        Key=upload_key(date, instance),
                        Body=format_counter_file(values[instance]).encode(),
                        Metadata={SAMPLED_AT_METADATA: str(epoch_ms(dt.datetime.now(dt.UTC)))},
                    )
                    progress.advance(task)
                drain = progress.add_task(f"round {round_number}: pipeline", total=None)
                stack.wait_until_idle(timeout=300)
                progress.update(drain, total=1, completed=1)
        truth = {}
        for instance_values in values.values():
            for name, value in instance_values.items():
                truth[name] = truth.get(name, 0) + value
        stored = stack_query(clients, outputs["AggregatesTableName"], date)
        rows = [{"counter": n, "date": date, "value": stored.get(n), "expected": truth[n]} for n in sorted(truth)]
        render(
            rows[:12],
            ("counter", "date", "value", "expected"),
            "table",
            title=f"aggregates for {date} (first 12 of {len(rows)})",
        )
        mismatches = [r for r in rows if r["value"] != r["expected"]]
        console.print(f"{len(rows) - len(mismatches)} of {len(rows)} aggregates equal the sum of the latest uploads")
        alerts = [
            json.loads(m["Body"])
            for m in sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        ]
        alerts.sort(key=lambda a: a["at"])
        console.print(f"alerts published on the alerts topic ({len(alerts)}):")
        for alert in alerts:
            console.print(
                f"  {alert['state']:5} {alert['counter']} {alert['date']} value={alert['value']} "
                f"previous={alert['previousValue']} threshold={alert['threshold']}"
            )
        return 0 if not mismatches else 1
    finally:
        stack.stop()


def stack_query(clients, table_name: str, date: str) -> dict[str, int]:
    from aggregator.adapters.dynamodb import AggregatesTable

    return AggregatesTable(clients("dynamodb"), table_name).query_date(date)
