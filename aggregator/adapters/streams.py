"""DynamoDB Streams: reading back the records of a batch a stream trigger gave up on."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from aggregator.domain.aggregation import CounterKey
from aggregator.domain.errors import StoreUnavailable

GONE = ("TrimmedDataAccessException", "ResourceNotFoundException", "ExpiredIteratorException")


class StreamReader:
    def __init__(self, client: Any):
        self.client = client

    def keys_in_range(self, stream_arn: str, shard_id: str, first: str, last: str) -> set[CounterKey] | None:
        """The (Counter, Date) keys of the records first..last of one shard; None once the stream
        no longer holds them (records live 24 hours)."""
        try:
            iterator = self.client.get_shard_iterator(
                StreamArn=stream_arn, ShardId=shard_id, ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=first
            )["ShardIterator"]
            keys: set[CounterKey] = set()
            while iterator:
                response = self.client.get_records(ShardIterator=iterator, Limit=1000)
                records = response["Records"]
                in_range = [r for r in records if int(r["dynamodb"]["SequenceNumber"]) <= int(last)]
                keys.update(
                    (r["dynamodb"]["Keys"]["Counter"]["S"], r["dynamodb"]["Keys"]["Date"]["S"]) for r in in_range
                )
                if not records or len(in_range) < len(records):
                    return keys
                iterator = response.get("NextShardIterator")
            return keys
        except ClientError as exc:
            if exc.response["Error"]["Code"] in GONE:
                return None
            raise StoreUnavailable(f"reading {stream_arn} {shard_id}: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"reading {stream_arn} {shard_id}: {exc}") from exc
