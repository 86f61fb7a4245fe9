"""Snapshot function: Aggregates stream → snapshots/<date>.json for each date the batch touched."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from aggregator.adapters.clients import default_clients
from aggregator.adapters.dynamodb import AggregatesTable
from aggregator.adapters.s3 import S3Objects
from aggregator.handlers.alert import aggregate_change
from aggregator.handlers.streams import failure_response, read_until_failure, unreadable
from aggregator.settings import Settings
from aggregator.usecases.snapshot import write_snapshots

logger = Logger(service="snapshot")
metrics = Metrics(service="snapshot")


@lru_cache(maxsize=1)
def wiring() -> tuple[AggregatesTable, S3Objects, str]:
    settings = Settings.from_env("aggregates_table", "bucket_name")
    clients = default_clients()
    return (
        AggregatesTable(clients("dynamodb"), settings.aggregates_table),
        S3Objects(clients("s3"), settings.bucket_name),
        settings.key_prefix,
    )


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    records = list(DynamoDBStreamEvent(event).records)
    read, failed = read_until_failure(records, aggregate_change, unreadable(logger))
    latest = {change.key: change.value for _, change in read}  # stream order: the last one wins
    aggregates, objects, prefix = wiring()
    try:
        written = write_snapshots(latest, aggregates, objects, dt.datetime.now(dt.UTC), prefix)
    except Exception:
        logger.exception("snapshot write failed; the batch will be retried")
        return failure_response(records[0])
    metrics.add_metric(name="SnapshotsWritten", unit=MetricUnit.Count, value=len(written))
    return failure_response(failed)
