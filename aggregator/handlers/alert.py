"""Alert function: Aggregates stream → threshold transitions published on the alerts topic."""

from __future__ import annotations

from functools import lru_cache

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from aggregator.adapters.clients import default_clients
from aggregator.adapters.dynamodb import AlertStatesTable, ThresholdCache, ThresholdsTable
from aggregator.adapters.sns import AlertsTopic
from aggregator.handlers.streams import as_int, failure_response, is_removal, read_until_failure, record_key, unreadable
from aggregator.settings import Settings
from aggregator.usecases.alert import AggregateChange, Alerter

logger = Logger(service="alert")
metrics = Metrics(service="alert")


@lru_cache(maxsize=1)
def alerter() -> Alerter:
    settings = Settings.from_env("thresholds_table", "alert_states_table", "alerts_topic_arn")
    clients = default_clients()
    return Alerter(
        ThresholdCache(
            ThresholdsTable(clients("dynamodb"), settings.thresholds_table), settings.threshold_cache_seconds
        ),
        AlertStatesTable(clients("dynamodb"), settings.alert_states_table),
        AlertsTopic(clients("sns"), settings.alerts_topic_arn),
    )


def aggregate_change(record: DynamoDBRecord) -> AggregateChange:
    value = None if is_removal(record) else as_int(record.dynamodb.new_image.get("Value"))
    return AggregateChange(
        key=record_key(record),
        sequence_number=record.dynamodb.sequence_number,
        value=value,
        previous_value=as_int(record.dynamodb.old_image.get("Value")),
    )


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    """Processes records in stream order and stops at the first failure, reporting it: a later
    record of the same counter must never be announced before an earlier one."""
    records = list(DynamoDBStreamEvent(event).records)
    read, failed = read_until_failure(records, aggregate_change, unreadable(logger))
    if not read:
        return failure_response(failed)
    service = alerter()
    try:
        known = service.load_states([change for _, change in read])
    except Exception:
        logger.exception("cannot read alert states; the batch will be retried")
        return failure_response(records[0])
    for record, change in read:
        try:
            alert = service.process(change, known)
        except Exception:
            logger.exception(
                "alert failed; retrying from this record", extra={"counter": change.key[0], "date": change.key[1]}
            )
            return failure_response(record)
        if alert is not None:
            metrics.add_metric(name="AlertsPublished", unit=MetricUnit.Count, value=1)
            logger.info("alert published", extra={"counter": alert.counter, "date": alert.date, "state": alert.state})
    return failure_response(failed)
