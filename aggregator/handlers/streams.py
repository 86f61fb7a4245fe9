"""Helpers the three DynamoDB-stream handlers share: reading records and reporting failures."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, TypeVar

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)

from aggregator.domain.aggregation import CounterKey

T = TypeVar("T")


def record_key(record: DynamoDBRecord) -> CounterKey:
    keys = record.dynamodb.keys
    return str(keys["Counter"]), str(keys["Date"])


def is_removal(record: DynamoDBRecord) -> bool:
    return record.event_name == DynamoDBRecordEventName.REMOVE


def as_int(value: Any) -> int | None:
    """A DynamoDB number (Decimal) as an exact int; ValueError for a fraction or non-number."""
    if value is None:
        return None
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, int):
        return value
    raise ValueError(f"{value!r} is not an integer")


def read_until_failure(
    records: Iterable[DynamoDBRecord],
    read: Callable[[DynamoDBRecord], T],
    on_error: Callable[[DynamoDBRecord, Exception], None],
) -> tuple[list[tuple[DynamoDBRecord, T]], DynamoDBRecord | None]:
    """Read records in stream order up to the first one that cannot be read.

    Returns what was read and the first failing record (None when all were read). Stopping at
    the first failure keeps per-key order: Lambda retries from the reported record onwards.
    """
    read_ok = []
    for record in records:
        try:
            read_ok.append((record, read(record)))
        except Exception as exc:  # noqa: BLE001 - any unreadable record is reported, never dropped
            on_error(record, exc)
            return read_ok, record
    return read_ok, None


def failure_response(record: DynamoDBRecord | None) -> dict[str, list[dict[str, str]]]:
    """The partial batch response: retry from `record` (nothing when None)."""
    if record is None:
        return {"batchItemFailures": []}
    return {"batchItemFailures": [{"itemIdentifier": record.dynamodb.sequence_number}]}


def unreadable(logger: Any) -> Callable[[DynamoDBRecord, Exception], None]:
    """An on_error callback that logs the failing record's position (never its contents)."""

    def log(record: DynamoDBRecord, exc: Exception) -> None:
        logger.error(
            "unreadable stream record", extra={"sequence_number": record.dynamodb.sequence_number, "error": str(exc)}
        )

    return log
