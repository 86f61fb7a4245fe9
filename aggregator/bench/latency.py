"""Freshness on the local stack: upload → aggregate written, and upload → alert published."""

from __future__ import annotations

import datetime as dt
import json
import random
import statistics
import time
from dataclasses import asdict, dataclass

from aggregator.adapters.dynamodb import AggregatesTable
from aggregator.adapters.sns import AlertsTopic
from aggregator.domain.counter_file import format_counter_file
from aggregator.domain.keys import upload_key
from aggregator.domain.ordering import SAMPLED_AT_METADATA, epoch_ms

MARKER = "bench.marker."


@dataclass
class LatencyFigures:
    instances: int
    counters: int
    rounds: int
    minute_seconds: float  # how long one "minute" of uploads lasted (time compression)
    uploads: int
    offered_counter_writes_per_second: float  # what the fleet asks for
    counter_writes_per_second: float  # written over the time from the first upload to drained
    drained_after_s: float  # how long after the last minute ended the pipeline was idle again
    aggregates_observed: int  # uploads whose marker reached the aggregate (should equal uploads)
    alerts_observed: int  # uploads whose marker raised its transition (should equal uploads)
    aggregate_p50_s: float
    aggregate_p95_s: float
    aggregate_p99_s: float
    alert_p50_s: float
    alert_p95_s: float
    alert_p99_s: float

    def as_dict(self) -> dict:
        return asdict(self)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(share * 100) - 1]


def measure_latency(
    instances: int = 100, counters: int = 100, rounds: int = 2, minute_seconds: float = 60.0, seed: int = 5
) -> LatencyFigures:
    """Each instance uploads once per (compressed) minute, spread over it; one marker counter per
    instance alternates 1/0 against a threshold of 0, so every upload moves an aggregate and
    raises a transition whose times are recorded where the functions write them."""
    from aggregator.local.server import LocalStack

    rng = random.Random(seed)
    aggregate_times: dict[tuple[str, int], list[float]] = {}
    alert_times: dict[tuple[str, int], list[float]] = {}
    original_write, original_publish = AggregatesTable.write_values, AlertsTopic.publish

    def write_values(self, values):
        original_write(self, values)
        now = time.monotonic()
        for (counter, _), value in values.items():
            if counter.startswith(MARKER) and value is not None:
                aggregate_times.setdefault((counter, value), []).append(now)

    def publish(self, body, subject, attributes):
        message_id = original_publish(self, body, subject, attributes)
        alert = json.loads(body)
        if alert["counter"].startswith(MARKER):
            alert_times.setdefault((alert["counter"], alert["value"]), []).append(time.monotonic())
        return message_id

    AggregatesTable.write_values, AlertsTopic.publish = write_values, publish
    stack = LocalStack(port=0).start()
    try:
        clients, outputs = stack.runner.clients, stack.outputs
        s3, dynamodb = clients("s3"), clients("dynamodb")
        names = [f"rtb.metric_{n:03d}" for n in range(counters)]
        fleet = [f"i-{n:017x}" for n in range(instances)]
        for instance in fleet:
            dynamodb.put_item(
                TableName=outputs["ThresholdsTableName"],
                Item={"Counter": {"S": MARKER + instance}, "Threshold": {"N": "0"}},
            )
        time.sleep(1.5)  # the local alert function caches thresholds for 1 s
        values = {instance: {name: rng.randint(0, 999_999) for name in names} for instance in fleet}
        uploaded: list[tuple[str, int, float]] = []
        date = dt.datetime.now(dt.UTC).date().isoformat()
        started = time.monotonic()
        for round_number in range(1, rounds + 1):
            round_start = time.monotonic()
            for position, instance in enumerate(fleet):
                due = round_start + minute_seconds * position / len(fleet)
                time.sleep(max(0.0, due - time.monotonic()))
                for name in names:
                    if rng.random() < 0.5:
                        values[instance][name] = rng.randint(0, 999_999)
                marker = round_number % 2
                body = format_counter_file({**values[instance], MARKER + instance: marker}).encode()
                at = time.monotonic()
                s3.put_object(
                    Bucket=outputs["BucketName"],
                    Key=upload_key(date, instance),
                    Body=body,
                    Metadata={SAMPLED_AT_METADATA: str(epoch_ms(dt.datetime.now(dt.UTC)))},
                )
                uploaded.append((instance, marker, at))
            time.sleep(max(0.0, round_start + minute_seconds - time.monotonic()))
        stack.wait_until_idle(timeout=3600)
        elapsed = time.monotonic() - started
    finally:
        stack.stop()
        AggregatesTable.write_values, AlertsTopic.publish = original_write, original_publish

    def delays(times: dict) -> list[float]:
        found = []
        for instance, marker, at in uploaded:
            later = [t for t in times.get((MARKER + instance, marker), []) if t >= at]
            if later:
                found.append(min(later) - at)
        return found

    to_aggregate, to_alert = delays(aggregate_times), delays(alert_times)
    return LatencyFigures(
        instances=instances,
        counters=counters,
        rounds=rounds,
        minute_seconds=minute_seconds,
        uploads=len(uploaded),
        offered_counter_writes_per_second=round(instances * (counters + 1) / minute_seconds, 1),
        counter_writes_per_second=round(len(uploaded) * (counters + 1) / elapsed, 1),
        drained_after_s=round(max(0.0, elapsed - rounds * minute_seconds), 1),
        aggregates_observed=len(to_aggregate),
        alerts_observed=len(to_alert),
        **{f"aggregate_p{p}_s": round(percentile(to_aggregate, p / 100), 2) for p in (50, 95, 99)},
        **{f"alert_p{p}_s": round(percentile(to_alert, p / 100), 2) for p in (50, 95, 99)},
    )
