"""Aggregate function: InstanceValues stream → sums written to Aggregates where they changed."""

from __future__ import annotations

from functools import lru_cache

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from aggregator.adapters.clients import default_clients
from aggregator.adapters.dynamodb import AggregatesTable
from aggregator.domain.aggregation import ItemChange
from aggregator.handlers.streams import as_int, failure_response, is_removal, read_until_failure, record_key, unreadable
from aggregator.settings import Settings
from aggregator.usecases.aggregate import aggregate_changes

logger = Logger(service="aggregate")
metrics = Metrics(service="aggregate")


@lru_cache(maxsize=1)
def aggregates() -> AggregatesTable:
    settings = Settings.from_env("aggregates_table")
    return AggregatesTable(default_clients()("dynamodb"), settings.aggregates_table)


def item_change(record: DynamoDBRecord) -> ItemChange:
    values = None
    if not is_removal(record):
        values = {
            instance: as_int(value) for instance, value in record.dynamodb.new_image.get("InstanceValues", {}).items()
        }
    return ItemChange(key=record_key(record), sequence_number=record.dynamodb.sequence_number, instance_values=values)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    """Sums the whole batch at once (newest image per item), so the batch is one unit of work:
    a failed write reports the batch's first record, and the retry is idempotent because
    aggregates are absolute sums compared with what is stored."""
    records = list(DynamoDBStreamEvent(event).records)
    read, failed = read_until_failure(records, item_change, unreadable(logger))
    try:
        written = aggregate_changes([change for _, change in read], aggregates())
    except Exception:
        logger.exception("aggregate write failed; the batch will be retried", extra={"records": len(records)})
        return failure_response(records[0])
    metrics.add_metric(name="AggregatesWritten", unit=MetricUnit.Count, value=written)
    return failure_response(failed)
