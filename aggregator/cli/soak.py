"""`counters soak`: the seed's workload against a running stack, watched from outside like ops would."""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import threading
import time

from aggregator.cli.context import Target
from aggregator.domain.counter_file import format_counter_file
from aggregator.domain.keys import upload_key
from aggregator.domain.ordering import SAMPLED_AT_METADATA, epoch_ms


def run_soak(args: argparse.Namespace) -> int:
    target = Target.from_args(args)
    s3, sqs, dynamodb = target.clients("s3"), target.clients("sqs"), target.clients("dynamodb")
    bucket, queue_url = target.output("BucketName"), target.output("IngestQueueUrl")
    aggregates = target.aggregates()
    rng = random.Random(args.seed)
    date = args.date or dt.datetime.now(dt.UTC).date().isoformat()
    # Counters and markers are named per run, so an earlier soak on the same date and stack
    # neither adds to these sums nor leaves markers that look like this run's.
    run_tag = f"soak.r{int(time.time() * 1000)}."
    marker_prefix = run_tag + "marker."
    fleet = [f"i-soak{n:05d}" for n in range(args.instances)]
    names = [f"{run_tag}metric_{n:03d}" for n in range(args.counters)]
    values = {i: {n: rng.randint(0, 999_999) for n in names} for i in fleet}
    uploaded_at: dict[tuple[str, int], float] = {}
    seen_at: dict[tuple[str, int], float] = {}
    samples: list[tuple[float, int, int]] = []  # (seconds since start, queue depth, uploads not yet summed)
    stop = threading.Event()
    started = time.monotonic()

    def watch() -> None:
        while not stop.is_set():
            markers = _markers(dynamodb, aggregates.table_name, date, marker_prefix)
            now = time.monotonic()
            # An upload is in the sums once its marker, or a later upload's, is: a round that
            # was overtaken between two samples is not waited for forever.
            for instance, round_number in list(uploaded_at):
                if markers.get(instance, 0) >= round_number:
                    seen_at.setdefault((instance, round_number), now)
            attributes = sqs.get_queue_attributes(
                QueueUrl=queue_url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            pending = sum(1 for key in list(uploaded_at) if key not in seen_at)
            samples.append((now - started, sum(int(v) for v in attributes.values()), pending))
            stop.wait(args.sample_seconds)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    print(
        f"soak: {args.instances} instances x {args.counters} counters, {args.minutes} minute(s) of "
        f"{args.minute_seconds} s, date {date}, against {target.endpoint_url or target.region}",
        flush=True,
    )
    for round_number in range(1, args.minutes + 1):
        round_start = time.monotonic()
        for position, instance in enumerate(fleet):
            time.sleep(max(0.0, round_start + args.minute_seconds * position / len(fleet) - time.monotonic()))
            for name in names:
                if rng.random() < 0.5:
                    values[instance][name] = rng.randint(0, 999_999)
            body = format_counter_file({**values[instance], marker_prefix + instance: round_number}).encode()
            uploaded_at[(instance, round_number)] = time.monotonic()
            s3.put_object(
                Bucket=bucket,
                Key=upload_key(date, instance, target.key_prefix),
                Body=body,
                Metadata={SAMPLED_AT_METADATA: str(epoch_ms(dt.datetime.now(dt.UTC)))},
            )
        behind = time.monotonic() - (round_start + args.minute_seconds)
        print(
            f"minute {round_number}: {len(fleet)} uploads" + (f" ({behind:.1f} s late)" if behind > 1 else ""),
            flush=True,
        )
        time.sleep(max(0.0, round_start + args.minute_seconds - time.monotonic()))
    deadline = time.monotonic() + args.drain_timeout
    while time.monotonic() < deadline and any(key not in seen_at for key in uploaded_at):
        time.sleep(1)
    stop.set()
    watcher.join()
    elapsed = time.monotonic() - started

    latencies = sorted(seen_at[key] - uploaded_at[key] for key in uploaded_at if key in seen_at)
    truth = {}
    for instance_values in values.values():
        for name, value in instance_values.items():
            truth[name] = truth.get(name, 0) + value
    stored = aggregates.query_date(date)
    wrong = sorted(name for name in truth if stored.get(name) != truth[name])
    quarantined = len(target.quarantine().list_all())
    dead = int(
        sqs.get_queue_attributes(
            QueueUrl=target.output("DeadLetterQueueUrl"), AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]
    )
    print("backlog over time (s since start: ingest queue depth, uploads not yet in the sums):")
    step = max(1, len(samples) // 20)
    for at, depth, pending in samples[::step]:
        print(f"  {at:7.1f} s: queue {depth:5d}, pending {pending:5d}")
    writes = len(uploaded_at) * (args.counters + 1)
    print(
        f"uploads processed: {len(latencies)} of {len(uploaded_at)}; {writes} counter values in {elapsed:.0f} s: "
        f"offered {len(fleet) * (args.counters + 1) / args.minute_seconds:.1f}/s, "
        f"sustained {writes / elapsed:.1f}/s from the first upload until drained"
    )
    if latencies:
        q = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else latencies * 99
        print(
            f"freshness upload -> aggregate: p50 {q[49]:.1f} s, p95 {q[94]:.1f} s, p99 {q[98]:.1f} s "
            f"(sampled every {_mean_interval(samples):.1f} s on average)"
        )
    print(f"errors: {quarantined} quarantined, {dead} dead-lettered")
    if wrong or len(latencies) < len(uploaded_at):
        print(
            f"FAILED: {len(wrong)} aggregate(s) differ from the truth, "
            f"{len(uploaded_at) - len(latencies)} upload(s) never reached the sums"
        )
        return 1
    print(f"aggregates equal the truth: all {len(truth)} counters")
    return 0


def _mean_interval(samples: list[tuple[float, int, int]]) -> float:
    """How often the watcher really looked: under load a sample takes longer than asked."""
    if len(samples) < 2:
        return 0.0
    return (samples[-1][0] - samples[0][0]) / (len(samples) - 1)


def _markers(dynamodb, table: str, date: str, prefix: str) -> dict[str, int]:
    markers = {}
    paginator = dynamodb.get_paginator("query")
    for page in paginator.paginate(
        TableName=table,
        IndexName="ByDate",
        KeyConditionExpression="#d = :d AND begins_with(#c, :m)",
        ExpressionAttributeNames={"#d": "Date", "#c": "Counter"},
        ExpressionAttributeValues={":d": {"S": date}, ":m": {"S": prefix}},
    ):
        for item in page.get("Items", []):
            markers[item["Counter"]["S"][len(prefix) :]] = int(item["Value"]["N"])
    return markers
