"""Test builders: real events from tests/events, tables from the template, stream reading."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

from aggregator.deploy.template import load_template, resources_of_type, table_definition
from aggregator.local.runner import lambda_stream_record

EVENTS = Path(__file__).parent / "events"


def load_event(name: str) -> dict:
    """A real event from tests/events (a fresh copy each time)."""
    return copy.deepcopy(json.loads((EVENTS / f"{name}.json").read_text()))


def s3_event_record(
    key: str, version_id: str | None = None, sequencer: str | None = None, event_time: str = "2026-11-22T10:00:00.123Z"
) -> dict:
    """One S3 ObjectCreated record, derived from the stored SQS/SNS/S3 event."""
    sns = json.loads(load_event("sqs_sns_s3_object_created")["Records"][0]["body"])
    record = json.loads(sns["Message"])["Records"][0]
    record["eventTime"] = event_time
    obj = record["s3"]["object"]
    obj["key"] = key.replace(" ", "+")
    for name, value in (("versionId", version_id), ("sequencer", sequencer)):
        if value is None:
            obj.pop(name, None)
        else:
            obj[name] = value
    return record


def sns_body(message: Any) -> str:
    """The SQS body of an SNS notification carrying `message` (a dict is JSON-encoded)."""
    sns = json.loads(load_event("sqs_sns_s3_object_created")["Records"][0]["body"])
    sns["MessageId"] = str(uuid.uuid4())
    sns["Message"] = message if isinstance(message, str) else json.dumps(message)
    return json.dumps(sns)


def sqs_event(*bodies: str) -> dict:
    """A Lambda SQS event with one record per body, each with its own messageId."""
    template = load_event("sqs_sns_s3_object_created")["Records"][0]
    return {"Records": [dict(copy.deepcopy(template), messageId=str(uuid.uuid4()), body=b) for b in bodies]}


def upload_event(*keys: str) -> dict:
    """SQS event carrying one S3 ObjectCreated notification per key (no versionId, like moto)."""
    return sqs_event(*(sns_body({"Records": [s3_event_record(k)]}) for k in keys))


def aggregates_event(*changes: tuple[str, str, int | None, int | None, int]) -> dict:
    """Aggregates stream event from (counter, date, old value, new value, sequence) tuples."""
    template = load_event("dynamodb_stream_aggregates")["Records"][0]
    records = []
    for counter, date, old, new, sequence in changes:
        record = copy.deepcopy(template)
        keys = {"Counter": {"S": counter}, "Date": {"S": date}}
        record["dynamodb"]["Keys"] = keys
        record["dynamodb"]["SequenceNumber"] = f"{sequence:024d}"
        record["dynamodb"].pop("OldImage")
        record["dynamodb"].pop("NewImage")
        if old is not None:
            record["dynamodb"]["OldImage"] = {**keys, "Value": {"N": str(old)}}
        if new is not None:
            record["dynamodb"]["NewImage"] = {**keys, "Value": {"N": str(new)}}
        record["eventName"] = "INSERT" if old is None else ("REMOVE" if new is None else "MODIFY")
        records.append(record)
    return {"Records": records}


def create_tables_from_template(dynamodb: Any) -> dict[str, str]:
    """Create every table the template declares (same keys, indexes, streams), named by logical id."""
    template = load_template()
    for logical_id in resources_of_type(template, "AWS::DynamoDB::Table"):
        dynamodb.create_table(**table_definition(template, logical_id, logical_id))
    return {logical_id: logical_id for logical_id in resources_of_type(template, "AWS::DynamoDB::Table")}


class StreamReader:
    """Reads a table's stream from where it last stopped, as Lambda-shaped records."""

    def __init__(self, dynamodb: Any, streams: Any, table_name: str):
        self.streams = streams
        self.arn = dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self.iterator = streams.get_shard_iterator(StreamArn=self.arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
            "ShardIterator"
        ]

    def event(self) -> dict:
        records = []
        while True:
            response = self.streams.get_records(ShardIterator=self.iterator, Limit=100)
            self.iterator = response["NextShardIterator"]
            if not response["Records"]:
                return {"Records": records}
            records.extend(lambda_stream_record(r, self.arn, "us-east-1") for r in response["Records"])
