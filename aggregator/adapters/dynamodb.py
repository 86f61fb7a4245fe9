"""DynamoDB: the InstanceValues, Aggregates, Thresholds, AlertStates and Quarantine tables."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from aggregator.domain.aggregation import CounterKey
from aggregator.domain.errors import ItemTooLarge, StoreUnavailable

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
BATCH_WRITE_LIMIT = 25
BATCH_GET_LIMIT = 100
UNPROCESSED_RETRIES = 8


def to_attr(value: Any) -> dict:
    return _serializer.serialize(value)


def from_item(item: Mapping[str, dict]) -> dict[str, Any]:
    """A DynamoDB item as plain Python; whole numbers come back as int (all of ours are)."""
    return {name: _plain(_deserializer.deserialize(value)) for name, value in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def _unavailable(what: str, exc: Exception) -> StoreUnavailable:
    return StoreUnavailable(f"{what}: {exc}")


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _backoff(attempt: int) -> None:
    time.sleep(min(0.05 * 2**attempt, 2.0))


def _until_processed(send: Any, request: dict, leftover: str, what: str) -> list[dict]:
    """Send a batch request, then re-send what DynamoDB left unprocessed, with backoff."""
    responses = []
    for attempt in range(UNPROCESSED_RETRIES + 1):
        try:
            response = send(request)
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable(what, exc) from exc
        responses.append(response)
        request = response.get(leftover) or {}
        if not request:
            return responses
        _backoff(attempt)
    raise StoreUnavailable(f"{what}: requests left unprocessed after {UNPROCESSED_RETRIES} retries")


def _batch_get(client: Any, table_name: str, keys: Iterable[CounterKey], **options: Any) -> list[dict[str, Any]]:
    """BatchGetItem over (Counter, Date) keys, 100 at a time, retrying UnprocessedKeys."""
    items: list[dict[str, Any]] = []
    for chunk in _chunks(sorted(set(keys)), BATCH_GET_LIMIT):
        request = {
            table_name: {
                "Keys": [{"Counter": {"S": c}, "Date": {"S": d}} for c, d in chunk],
                "ConsistentRead": True,
                **options,
            }
        }
        for response in _until_processed(
            lambda r: client.batch_get_item(RequestItems=r), request, "UnprocessedKeys", f"reading {table_name}"
        ):
            items.extend(from_item(raw) for raw in response.get("Responses", {}).get(table_name, []))
    return items


@dataclass(frozen=True)
class WriteOutcome:
    written: int = 0
    skipped: int = 0  # duplicate or older upload: the stored stamp is the same or newer


class InstanceValuesTable:
    """(Counter, Date) → {InstanceValues.<instance>: N, InstanceStamps.<instance>: S}."""

    def __init__(self, client: Any, table_name: str):
        self.client = client
        self.table_name = table_name

    def apply_upload(self, date: str, instance: str, counters: Mapping[str, int], stamp: str) -> WriteOutcome:
        """Write every counter of one upload, each guarded by its per-instance stamp."""
        written = skipped = 0
        for counter, value in counters.items():
            if self.put_value(counter, date, instance, value, stamp):
                written += 1
            else:
                skipped += 1
        return WriteOutcome(written=written, skipped=skipped)

    def put_value(self, counter: str, date: str, instance: str, value: int, stamp: str) -> bool:
        """One conditional UpdateItem; False when the stored stamp is the same or newer.

        The maps are created (second statement) only when DynamoDB says the document path does
        not exist yet, so the common case is a single write.
        """
        key = {"Counter": {"S": counter}, "Date": {"S": date}}
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=key,
                UpdateExpression="SET InstanceValues.#i = :v, InstanceStamps.#i = :s",
                ConditionExpression="attribute_not_exists(InstanceStamps.#i) OR InstanceStamps.#i < :s",
                ExpressionAttributeNames={"#i": instance},
                ExpressionAttributeValues={":v": {"N": str(value)}, ":s": {"S": stamp}},
            )
            return True
        except ClientError as exc:
            code = _error_code(exc)
            if code == "ConditionalCheckFailedException":
                return False
            if code == "ValidationException" and "document path" in str(exc):
                return self._create_maps(key, counter, instance, value, stamp)
            raise self._domain_error(exc, counter, date, instance) from exc
        except BotoCoreError as exc:
            raise _unavailable(f"writing {counter} {date} for {instance}", exc) from exc

    def _create_maps(self, key: dict, counter: str, instance: str, value: int, stamp: str) -> bool:
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=key,
                UpdateExpression="SET InstanceValues = :vm, InstanceStamps = :sm",
                ConditionExpression="attribute_not_exists(InstanceValues)",
                ExpressionAttributeValues={
                    ":vm": {"M": {instance: {"N": str(value)}}},
                    ":sm": {"M": {instance: {"S": stamp}}},
                },
            )
            return True
        except ClientError as exc:
            if _error_code(exc) == "ConditionalCheckFailedException":
                # Another writer created the maps between our two calls: take the normal path.
                return self.put_value(counter, key["Date"]["S"], instance, value, stamp)
            raise self._domain_error(exc, counter, key["Date"]["S"], instance) from exc

    @staticmethod
    def _domain_error(exc: ClientError, counter: str, date: str, instance: str) -> Exception:
        if _error_code(exc) == "ValidationException" and "size" in str(exc).lower():
            return ItemTooLarge(
                f"item for counter {counter} on {date} would exceed DynamoDB's 400 KB item limit "
                f"(writing instance {instance})"
            )
        return _unavailable(f"writing {counter} {date} for {instance}", exc)

    def items_for_date(self, date: str) -> Iterator[tuple[str, dict[str, int]]]:
        """Every (counter, instance values) of one date: a filtered Scan, for repairs only."""
        paginator = self.client.get_paginator("scan")
        try:
            for page in paginator.paginate(
                TableName=self.table_name,
                FilterExpression="#d = :d",
                ExpressionAttributeNames={"#d": "Date"},
                ExpressionAttributeValues={":d": {"S": date}},
                ConsistentRead=True,
            ):
                for raw in page.get("Items", []):
                    item = from_item(raw)
                    values = {k: int(v) for k, v in item.get("InstanceValues", {}).items()}
                    yield item["Counter"], values
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable(f"scanning {self.table_name} for {date}", exc) from exc


class AggregatesTable:
    """(Counter, Date) → {Value: N}; GSI ByDate (Date, Counter)."""

    INDEX = "ByDate"

    def __init__(self, client: Any, table_name: str):
        self.client = client
        self.table_name = table_name

    def get_values(self, keys: Iterable[CounterKey]) -> dict[CounterKey, int]:
        """Stored Values of the given keys (absent keys are left out), via BatchGetItem."""
        items = _batch_get(
            self.client,
            self.table_name,
            keys,
            ProjectionExpression="#c, #d, #v",
            ExpressionAttributeNames={"#c": "Counter", "#d": "Date", "#v": "Value"},
        )
        return {(item["Counter"], item["Date"]): int(item["Value"]) for item in items}

    def write_values(self, values: Mapping[CounterKey, int | None]) -> None:
        """Put each Value (delete where None) with BatchWriteItem, 25 at a time, retrying UnprocessedItems."""
        requests = []
        for (counter, date), value in sorted(values.items()):
            key = {"Counter": {"S": counter}, "Date": {"S": date}}
            if value is None:
                requests.append({"DeleteRequest": {"Key": key}})
            else:
                requests.append({"PutRequest": {"Item": {**key, "Value": {"N": str(value)}}}})
        for chunk in _chunks(requests, BATCH_WRITE_LIMIT):
            _until_processed(
                lambda r: self.client.batch_write_item(RequestItems=r),
                {self.table_name: chunk},
                "UnprocessedItems",
                f"writing {self.table_name}",
            )

    def query_date(self, date: str, counter: str | None = None) -> dict[str, int]:
        """{counter: value} of one date through the ByDate index (optionally one counter)."""
        condition = "#d = :d"
        values = {":d": {"S": date}}
        names = {"#d": "Date", "#c": "Counter", "#v": "Value"}
        if counter is not None:
            condition += " AND #c = :c"
            values[":c"] = {"S": counter}
        result: dict[str, int] = {}
        paginator = self.client.get_paginator("query")
        try:
            for page in paginator.paginate(
                TableName=self.table_name,
                IndexName=self.INDEX,
                KeyConditionExpression=condition,
                ProjectionExpression="#c, #v",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            ):
                for raw in page.get("Items", []):
                    item = from_item(raw)
                    result[item["Counter"]] = int(item["Value"])
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable(f"querying {self.table_name} for {date}", exc) from exc
        return result


class ThresholdsTable:
    """Counter → {Threshold: N}: the per-counter alert thresholds ops set."""

    def __init__(self, client: Any, table_name: str):
        self.client = client
        self.table_name = table_name

    def all(self) -> dict[str, int]:
        result: dict[str, int] = {}
        try:
            for page in self.client.get_paginator("scan").paginate(TableName=self.table_name):
                for raw in page.get("Items", []):
                    item = from_item(raw)
                    result[item["Counter"]] = int(item["Threshold"])
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable(f"reading {self.table_name}", exc) from exc
        return result

    def set(self, counter: str, threshold: int) -> None:
        self.client.put_item(
            TableName=self.table_name,
            Item={"Counter": {"S": counter}, "Threshold": {"N": str(threshold)}},
        )

    def delete(self, counter: str) -> bool:
        response = self.client.delete_item(
            TableName=self.table_name, Key={"Counter": {"S": counter}}, ReturnValues="ALL_OLD"
        )
        return bool(response.get("Attributes"))


class ThresholdCache:
    """All thresholds, re-read at most every ttl seconds (thresholds are few and change rarely)."""

    def __init__(self, table: ThresholdsTable, ttl_seconds: float, clock=time.monotonic):
        self.table = table
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self._values: dict[str, int] = {}
        self._loaded_at: float | None = None

    def get(self, counter: str) -> int | None:
        now = self.clock()
        if self._loaded_at is None or now - self._loaded_at >= self.ttl_seconds:
            self._values = self.table.all()
            self._loaded_at = now
        return self._values.get(counter)


@dataclass(frozen=True)
class AlertState:
    state: str | None = None
    pending_body: str | None = None
    pending_subject: str | None = None
    pending_attributes: dict | None = None
    transition_id: str | None = None


class AlertStatesTable:
    """(Counter, Date) → the last announced state, and the message in flight if any."""

    def __init__(self, client: Any, table_name: str):
        self.client = client
        self.table_name = table_name

    def get_many(self, keys: Iterable[CounterKey]) -> dict[CounterKey, AlertState]:
        return {
            (item["Counter"], item["Date"]): AlertState(
                state=item.get("State"),
                pending_body=item.get("PendingBody"),
                pending_subject=item.get("PendingSubject"),
                pending_attributes=item.get("PendingAttributes"),
                transition_id=item.get("TransitionId"),
            )
            for item in _batch_get(self.client, self.table_name, keys)
        }

    def claim(
        self,
        key: CounterKey,
        expected: str | None,
        new_state: str,
        transition_id: str,
        body: str,
        subject: str,
        attributes: dict,
        value: int | None,
        threshold: int | None,
        at: str,
    ) -> bool:
        """Record new_state with its message pending, only if the state is still `expected`."""
        counter, date = key
        condition = "attribute_not_exists(#s)" if expected is None else "#s = :expected"
        values = {
            ":state": {"S": new_state},
            ":tid": {"S": transition_id},
            ":body": {"S": body},
            ":subject": {"S": subject},
            ":attrs": to_attr(attributes),
            ":value": to_attr(value),
            ":threshold": to_attr(threshold),
            ":at": {"S": at},
        }
        if expected is not None:
            values[":expected"] = {"S": expected}
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={"Counter": {"S": counter}, "Date": {"S": date}},
                UpdateExpression=(
                    "SET #s = :state, TransitionId = :tid, PendingBody = :body, PendingSubject = :subject, "
                    "PendingAttributes = :attrs, #v = :value, Threshold = :threshold, ChangedAt = :at"
                ),
                ConditionExpression=condition,
                ExpressionAttributeNames={"#s": "State", "#v": "Value"},
                ExpressionAttributeValues=values,
            )
            return True
        except ClientError as exc:
            if _error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise _unavailable(f"recording alert state of {counter} {date}", exc) from exc
        except BotoCoreError as exc:
            raise _unavailable(f"recording alert state of {counter} {date}", exc) from exc

    def mark_published(self, key: CounterKey, transition_id: str) -> None:
        counter, date = key
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={"Counter": {"S": counter}, "Date": {"S": date}},
                UpdateExpression="REMOVE PendingBody, PendingSubject, PendingAttributes",
                ConditionExpression="TransitionId = :tid",
                ExpressionAttributeValues={":tid": {"S": transition_id}},
            )
        except ClientError as exc:
            if _error_code(exc) != "ConditionalCheckFailedException":
                raise _unavailable(f"recording alert of {counter} {date} as sent", exc) from exc

    def list_all(self) -> list[dict[str, Any]]:
        rows = []
        for page in self.client.get_paginator("scan").paginate(TableName=self.table_name):
            rows.extend(from_item(raw) for raw in page.get("Items", []))
        return rows


@dataclass(frozen=True)
class QuarantineEntry:
    object_key: str
    version: str  # S3 versionId, else the ETag, else "-"
    kind: str  # rejected-key | malformed | missing-object | too-large | unrecognised-message
    reason: str
    position: str
    recorded_at: str
    detail: str = ""


class QuarantineTable:
    """(ObjectKey, Version) → why an upload was not applied; listed by `errors`, cleared by `replay`."""

    def __init__(self, client: Any, table_name: str):
        self.client = client
        self.table_name = table_name

    def record(self, entry: QuarantineEntry) -> None:
        """Create or refresh the entry; a repeated failure of the same version counts Attempts."""
        values = {
            ":k": {"S": entry.kind},
            ":r": {"S": entry.reason},
            ":p": {"S": entry.position or "-"},
            ":t": {"S": entry.recorded_at},
            ":d": {"S": entry.detail or "-"},
            ":one": {"N": "1"},
            ":zero": {"N": "0"},
        }
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={"ObjectKey": {"S": entry.object_key}, "Version": {"S": entry.version or "-"}},
                UpdateExpression=(
                    "SET Kind = :k, Reason = :r, #p = :p, Detail = :d, LastSeenAt = :t, "
                    "FirstSeenAt = if_not_exists(FirstSeenAt, :t), Attempts = if_not_exists(Attempts, :zero) + :one"
                ),
                ExpressionAttributeNames={"#p": "Position"},
                ExpressionAttributeValues=values,
            )
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable(f"recording quarantine entry for {entry.object_key}", exc) from exc

    def list_all(self) -> list[dict[str, Any]]:
        rows = []
        for page in self.client.get_paginator("scan").paginate(TableName=self.table_name):
            rows.extend(from_item(raw) for raw in page.get("Items", []))
        return sorted(rows, key=lambda row: (row.get("LastSeenAt", ""), row["ObjectKey"]))

    def resolve_key(self, object_key: str) -> int:
        """Remove every entry of one object key (after a successful replay); returns how many."""
        response = self.client.query(
            TableName=self.table_name,
            KeyConditionExpression="ObjectKey = :k",
            ExpressionAttributeValues={":k": {"S": object_key}},
            ProjectionExpression="ObjectKey, Version",
        )
        items = response.get("Items", [])
        for item in items:
            self.client.delete_item(TableName=self.table_name, Key=item)
        return len(items)
