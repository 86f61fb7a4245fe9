"""Write units and requests of our design and of the naive baseline, measured on moto, and the
model that carries them to fleets too large to replay here."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from aggregator.adapters.clients import AwsClients
from aggregator.adapters.dynamodb import AggregatesTable, InstanceValuesTable, QuarantineTable
from aggregator.adapters.s3 import S3Objects
from aggregator.bench.meter import MeteredDynamoDB
from aggregator.bench.naive import naive_aggregate, naive_ingest
from aggregator.deploy.template import load_template, table_definition
from aggregator.domain import cost
from aggregator.domain.aggregation import ItemChange
from aggregator.domain.counter_file import format_counter_file
from aggregator.domain.keys import upload_key
from aggregator.domain.ordering import SAMPLED_AT_METADATA, epoch_ms, make_stamp
from aggregator.usecases.aggregate import aggregate_changes
from aggregator.usecases.ingest import Ingestor, UploadNotice

DATE = "2026-11-22"
OURS, NAIVE = "ours", "naive"
STREAM_BATCH = 100  # the template's BatchSize for the aggregate trigger
OLD_STAMP = make_stamp(1_700_000_000_000)


@dataclass
class Measured:
    design: str
    instances: int
    counters: int
    uploads: int
    item_bytes: int
    ingest_wcu_per_value: float
    ingest_requests_per_file: float
    ingest_reported_wcu_per_value: float
    ingest_failed_conditions: int
    aggregate_wcu_per_value: float
    aggregate_requests_per_file: float
    note: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def instance_id(number: int) -> str:
    return f"i-{number:017x}"


def model_item(design: str, instances: int, counter: str = "rtb.metric_042") -> dict:
    """The InstanceValues item of one counter and date once `instances` have reported."""
    ids = [instance_id(n) for n in range(instances)]
    item = {
        "Counter": {"S": counter},
        "Date": {"S": DATE},
        "InstanceValues": {"M": {i: {"N": "123456"} for i in ids}},
    }
    if design == OURS:
        item["InstanceStamps"] = {"M": {i: {"S": make_stamp(1_795_346_400_123)} for i in ids}}
    return item


def measure(
    clients: Any, design: str, instances: int, counters: int = 10, uploads: int = 50, seed: int = 1
) -> Measured:
    """Replay `uploads` files (half the values unchanged) into items that already hold
    `instances` instances, then aggregate the stream records they produced."""
    rng = random.Random(seed)
    size = cost.item_size(model_item(design, instances))
    if size > cost.ITEM_SIZE_LIMIT:
        return Measured(
            design,
            instances,
            counters,
            0,
            size,
            0,
            0,
            0,
            0,
            0,
            0,
            note=f"item would be {size / 1024:.0f} KB, over DynamoDB's 400 KB limit",
        )
    raw, streams, s3 = clients("dynamodb"), clients("dynamodbstreams"), clients("s3")
    suffix = uuid.uuid4().hex[:8]
    template = load_template()
    values_table, aggregates_table, quarantine_table = (f"bench-{suffix}-{name}" for name in ("iv", "agg", "q"))
    raw.create_table(**table_definition(template, "InstanceValuesTable", values_table))
    raw.create_table(**table_definition(template, "AggregatesTable", aggregates_table))
    raw.create_table(**table_definition(template, "QuarantineTable", quarantine_table))
    bucket = f"bench-{suffix}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})

    names = [f"rtb.metric_{n:03d}" for n in range(counters)]
    current = {name: {instance_id(i): rng.randint(0, 999_999) for i in range(instances)} for name in names}
    for name in names:  # the items as a fleet of `instances` left them: not metered
        item = {
            "Counter": {"S": name},
            "Date": {"S": DATE},
            "InstanceValues": {"M": {i: {"N": str(v)} for i, v in current[name].items()}},
        }
        if design == OURS:
            item["InstanceStamps"] = {"M": {i: {"S": OLD_STAMP} for i in current[name]}}
        raw.put_item(TableName=values_table, Item=item)
        raw.put_item(
            TableName=aggregates_table,
            Item={"Counter": {"S": name}, "Date": {"S": DATE}, "Value": {"N": str(sum(current[name].values()))}},
        )
    stream = _StreamReader(raw, streams, values_table)
    stream.records()  # skip what the set-up wrote

    metered = MeteredDynamoDB(AwsClients(clients.endpoint_url, clients.region)("dynamodb"), raw)
    metered.phase = "ingest"
    uploaders = [instance_id(i) for i in rng.sample(range(instances), min(uploads, instances))]
    ingestor = Ingestor(
        S3Objects(s3, bucket), InstanceValuesTable(metered, values_table), QuarantineTable(raw, quarantine_table)
    )
    for instance in uploaders:
        values = {name: (current[name][instance] if rng.random() < 0.5 else rng.randint(0, 999_999)) for name in names}
        if design == OURS:
            key = upload_key(DATE, instance)
            sampled = str(epoch_ms(dt.datetime.now(dt.UTC)))
            version = s3.put_object(
                Bucket=bucket,
                Key=key,
                Body=format_counter_file(values).encode(),
                Metadata={SAMPLED_AT_METADATA: sampled},
            ).get("VersionId")
            result = ingestor.ingest(UploadNotice(key=key, version_id=version))
            if result.status != "applied":
                raise RuntimeError(f"bench upload not applied: {result.reason}")
        else:
            naive_ingest(metered, values_table, DATE, instance, values)

    metered.phase = "aggregate"
    # Real DynamoDB writes no stream record for an update that changes nothing; moto does.
    changes = [c for c in stream.records() if c is not None]
    if design == OURS:
        aggregates = AggregatesTable(metered, aggregates_table)
        for start in range(0, len(changes), STREAM_BATCH):
            aggregate_changes(changes[start : start + STREAM_BATCH], aggregates)
    else:
        naive_aggregate(metered, aggregates_table, changes)

    values_written = len(uploaders) * counters
    ingest, aggregate = metered.tallies["ingest"], metered.tallies["aggregate"]
    for table in (values_table, aggregates_table, quarantine_table):
        raw.delete_table(TableName=table)
    return Measured(
        design=design,
        instances=instances,
        counters=counters,
        uploads=len(uploaders),
        item_bytes=size,
        ingest_wcu_per_value=ingest.write_units / values_written,
        ingest_requests_per_file=ingest.requests / len(uploaders),
        ingest_reported_wcu_per_value=ingest.reported_units / values_written,
        ingest_failed_conditions=ingest.failed_conditions,
        aggregate_wcu_per_value=aggregate.write_units / values_written,
        aggregate_requests_per_file=aggregate.requests / len(uploaders),
    )


class _StreamReader:
    def __init__(self, raw: Any, streams: Any, table: str):
        self.streams = streams
        arn = raw.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self.iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
            "ShardIterator"
        ]

    def records(self) -> list[ItemChange | None]:
        """Changes since the last call; None for records whose images are equal (no-op writes)."""
        out: list[ItemChange | None] = []
        while True:
            # Small pages: images of large items make moto's responses slow to build.
            response = self.streams.get_records(ShardIterator=self.iterator, Limit=20)
            self.iterator = response["NextShardIterator"]
            if not response["Records"]:
                return out
            for record in response["Records"]:
                images = record["dynamodb"]
                new, old = images.get("NewImage"), images.get("OldImage")
                if (
                    new is not None
                    and old is not None
                    and _values(new) == _values(old)
                    and new.get("InstanceStamps") == old.get("InstanceStamps")
                ):
                    out.append(None)
                    continue
                out.append(
                    ItemChange(
                        key=(images["Keys"]["Counter"]["S"], images["Keys"]["Date"]["S"]),
                        sequence_number=images["SequenceNumber"],
                        instance_values=None if new is None else _values(new),
                    )
                )


def _values(image: dict) -> dict[str, int]:
    return {k: int(v["N"]) for k, v in image.get("InstanceValues", {}).get("M", {}).items()}


@dataclass
class Modelled:
    instances: int
    design: str
    item_bytes: int
    over_item_size_limit: bool
    ingest_wcu_per_value: int
    item_wcu_per_second: float
    over_item_throughput_limit: bool
    total_wcu_per_value: float
    usd_per_day: float


def model(design: str, instances: int, aggregate_wcu_per_value: float, counters: int = 100) -> Modelled:
    """One upload per instance per minute, `counters` counters each: what DynamoDB's rules imply."""
    size = cost.item_size(model_item(design, instances))
    wcu = cost.write_units(size, size)
    per_second = instances / 60 * wcu  # every upload writes each counter's item once
    total = wcu + aggregate_wcu_per_value
    units_per_day = instances * counters * cost.MINUTES_PER_DAY * total
    return Modelled(
        instances=instances,
        design=design,
        item_bytes=size,
        over_item_size_limit=size > cost.ITEM_SIZE_LIMIT,
        ingest_wcu_per_value=wcu,
        item_wcu_per_second=per_second,
        over_item_throughput_limit=per_second > cost.ITEM_WRITE_UNITS_PER_SECOND_LIMIT,
        total_wcu_per_value=total,
        usd_per_day=cost.daily_cost_usd(units_per_day),
    )
