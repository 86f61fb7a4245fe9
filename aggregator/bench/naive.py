"""The seed's first design, as the baseline: no stamps, no change detection, one write per record."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from aggregator.domain.aggregation import ItemChange, total


def naive_ingest(client: Any, table: str, date: str, instance: str, counters: Mapping[str, int]) -> None:
    """One unconditional UpdateItem per counter of the file."""
    for counter, value in counters.items():
        key = {"Counter": {"S": counter}, "Date": {"S": date}}
        try:
            client.update_item(
                TableName=table,
                Key=key,
                UpdateExpression="SET InstanceValues.#i = :v",
                ExpressionAttributeNames={"#i": instance},
                ExpressionAttributeValues={":v": {"N": str(value)}},
            )
        except ClientError as exc:
            if "document path" not in str(exc):
                raise
            client.update_item(
                TableName=table,
                Key=key,
                UpdateExpression="SET InstanceValues = :m",
                ExpressionAttributeValues={":m": {"M": {instance: {"N": str(value)}}}},
            )


def naive_aggregate(client: Any, table: str, changes: Iterable[ItemChange]) -> None:
    """One UpdateItem per stream record, whatever the sum did."""
    for change in changes:
        counter, date = change.key
        client.update_item(
            TableName=table,
            Key={"Counter": {"S": counter}, "Date": {"S": date}},
            UpdateExpression="SET #v = :v",
            ExpressionAttributeNames={"#v": "Value"},
            ExpressionAttributeValues={":v": {"N": str(total(change.instance_values) or 0)}},
        )
