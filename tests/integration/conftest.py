"""Handlers and adapters against moto in-process, with tables built from the template."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from aggregator.adapters.clients import default_clients
from aggregator.handlers import aggregate, alert, ingest, snapshot
from tests.utils import StreamReader, create_tables_from_template

BUCKET = "counters-counters-123456789012-us-east-1"


@dataclass
class Aws:
    s3: Any
    dynamodb: Any
    streams: Any
    sqs: Any
    sns: Any
    alerts_topic: str
    alerts_inbox: str

    def put(self, key: str, body: str | bytes, sampled_at: int | None = None) -> str | None:
        metadata = {} if sampled_at is None else {"sampled-at": str(sampled_at)}
        data = body.encode() if isinstance(body, str) else body
        return self.s3.put_object(Bucket=BUCKET, Key=key, Body=data, Metadata=metadata).get("VersionId")

    def item(self, counter: str, date: str) -> dict:
        return self.dynamodb.get_item(
            TableName="InstanceValuesTable", Key={"Counter": {"S": counter}, "Date": {"S": date}}
        ).get("Item", {})

    def instance_values(self, counter: str, date: str) -> dict[str, int]:
        item = self.item(counter, date)
        return {k: int(v["N"]) for k, v in item.get("InstanceValues", {}).get("M", {}).items()}

    def aggregate(self, counter: str, date: str) -> int | None:
        item = self.dynamodb.get_item(
            TableName="AggregatesTable", Key={"Counter": {"S": counter}, "Date": {"S": date}}
        ).get("Item")
        return None if item is None else int(item["Value"]["N"])

    def quarantined(self) -> list[dict]:
        return self.dynamodb.scan(TableName="QuarantineTable")["Items"]

    def stream(self, table: str) -> StreamReader:
        return StreamReader(self.dynamodb, self.streams, table)

    def alerts_received(self) -> list[dict]:
        messages = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.alerts_inbox, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return messages
            for message in batch:
                messages.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.alerts_inbox, ReceiptHandle=message["ReceiptHandle"])


def _clear_caches() -> None:
    default_clients.cache_clear()
    for cached in (ingest.ingestor, aggregate.aggregates, alert.alerter, snapshot.wiring):
        cached.cache_clear()


@pytest.fixture
def aws(monkeypatch) -> Aws:
    with mock_aws():
        _clear_caches()
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        dynamodb = boto3.client("dynamodb")
        create_tables_from_template(dynamodb)
        sns, sqs = boto3.client("sns"), boto3.client("sqs")
        topic = sns.create_topic(Name="alerts")["TopicArn"]
        inbox = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
        inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn, Attributes={"RawMessageDelivery": "true"})
        for name, value in {
            "BUCKET_NAME": BUCKET,
            "INSTANCE_VALUES_TABLE": "InstanceValuesTable",
            "AGGREGATES_TABLE": "AggregatesTable",
            "THRESHOLDS_TABLE": "ThresholdsTable",
            "ALERT_STATES_TABLE": "AlertStatesTable",
            "QUARANTINE_TABLE": "QuarantineTable",
            "ALERTS_TOPIC_ARN": topic,
            "THRESHOLD_CACHE_SECONDS": "0",
        }.items():
            monkeypatch.setenv(name, value)
        yield Aws(s3, dynamodb, boto3.client("dynamodbstreams"), sqs, sns, topic, inbox)
        _clear_caches()


class FakeContext:
    function_name = "test"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "00000000-0000-4000-8000-000000000000"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


@pytest.fixture
def context() -> FakeContext:
    return FakeContext()
