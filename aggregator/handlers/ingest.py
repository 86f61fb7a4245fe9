"""Ingest function: SQS batch of SNS envelopes of S3 events → Ingestor, with per-message failures."""

from __future__ import annotations

from functools import lru_cache

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from aggregator.adapters.clients import default_clients
from aggregator.adapters.dynamodb import InstanceValuesTable, QuarantineTable
from aggregator.adapters.s3 import S3Objects
from aggregator.settings import Settings
from aggregator.usecases.ingest import APPLIED, Ingestor, IngestResult, UnrecognisedMessage, notices_from_sns_envelope

logger = Logger(service="ingest")
metrics = Metrics(service="ingest")
processor = BatchProcessor(event_type=EventType.SQS)


@lru_cache(maxsize=1)
def ingestor() -> Ingestor:
    settings = Settings.from_env("bucket_name", "instance_values_table", "quarantine_table")
    clients = default_clients()
    return Ingestor(
        S3Objects(clients("s3"), settings.bucket_name),
        InstanceValuesTable(clients("dynamodb"), settings.instance_values_table),
        QuarantineTable(clients("dynamodb"), settings.quarantine_table),
        key_prefix=settings.key_prefix,
        max_object_bytes=settings.max_object_bytes,
        require_instance_uploader=settings.require_instance_uploader,
        max_counters_per_file=settings.max_counters_per_file,
    )


def record_handler(record: SQSRecord) -> None:
    try:
        notices = notices_from_sns_envelope(record.body)
    except UnrecognisedMessage as exc:
        _report(ingestor().quarantine_message(record.message_id, str(exc), record.body))
        return
    if not notices:
        logger.info("no object-created records in message (S3 test event?)", extra={"message_id": record.message_id})
    for notice in notices:
        try:
            _report(ingestor().ingest(notice))
        except Exception:
            logger.exception("ingest failed; the message will be retried", extra={"key": notice.key})
            raise


def _report(result: IngestResult) -> None:
    if result.status == APPLIED:
        metrics.add_metric(name="UploadsApplied", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="CountersWritten", unit=MetricUnit.Count, value=result.written)
        metrics.add_metric(name="CountersUnchanged", unit=MetricUnit.Count, value=result.skipped)
        logger.info("upload applied", extra={"key": result.key, "written": result.written, "skipped": result.skipped})
    else:
        metrics.add_metric(name="UploadsQuarantined", unit=MetricUnit.Count, value=1)
        logger.warning("upload quarantined", extra={"key": result.key, "reason": result.reason})


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
