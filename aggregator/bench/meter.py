"""Counting every DynamoDB request a client makes, and pricing each write by DynamoDB's sizing rules."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from aggregator.domain.cost import item_size, write_units

WRITES = {"put_item", "update_item", "delete_item", "batch_write_item"}


@dataclass
class Tally:
    requests: int = 0  # every DynamoDB request, reads included
    write_requests: int = 0
    write_units: int = 0  # computed with the sizing rules
    failed_conditions: int = 0
    reported_units: float = 0.0  # ConsumedCapacity, where the endpoint returned it


class MeteredDynamoDB:
    """A stand-in for a boto3 DynamoDB client that prices each write on the larger of the item
    before and after (read through `peek`, an unmetered client), a failed conditional write on
    the item as it stands, and counts every request (paginated ones too) under `phase`."""

    def __init__(self, client: Any, peek: Any):
        self._client = client
        self._peek = peek
        self.phase = "setup"
        self.tallies: dict[str, Tally] = defaultdict(Tally)
        client.meta.events.register("before-call.dynamodb.*", self._count)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name not in WRITES:
            return attribute

        def priced(**params: Any) -> Any:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")
            targets = list(_targets(name, params))
            before = [self._size(table, key) for table, key in targets]
            tally = self.tallies[self.phase]
            tally.write_requests += 1
            try:
                response = attribute(**params)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                    tally.failed_conditions += 1
                    tally.write_units += sum(write_units(size, 0) for size in before)
                raise
            for (table, key), size in zip(targets, before, strict=True):
                tally.write_units += write_units(size, self._size(table, key))
            for capacity in _as_list(response.get("ConsumedCapacity")):
                tally.reported_units += float(capacity.get("CapacityUnits") or 0)
            return response

        return priced

    def _count(self, **_: Any) -> None:
        self.tallies[self.phase].requests += 1

    def _size(self, table: str, key: dict) -> int:
        return item_size(self._peek.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item"))


def _targets(operation: str, params: dict):
    """(table, key) of each item a write touches; our tables are keyed (Counter, Date)."""
    if operation == "batch_write_item":
        for table, requests in params["RequestItems"].items():
            for request in requests:
                if "PutRequest" in request:
                    item = request["PutRequest"]["Item"]
                    yield table, {"Counter": item["Counter"], "Date": item["Date"]}
                else:
                    yield table, request["DeleteRequest"]["Key"]
    elif operation == "put_item":
        yield params["TableName"], {"Counter": params["Item"]["Counter"], "Date": params["Item"]["Date"]}
    else:
        yield params["TableName"], params["Key"]


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
