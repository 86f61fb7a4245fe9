"""Operator repair after a stream trigger gave up on a batch (`replay --stream-failures` and
`replay --date`): rebuilt from the current state, never from the batch's stale images."""

import json

from aggregator.adapters.dynamodb import AggregatesTable, InstanceValuesTable
from aggregator.adapters.sqs import Queue
from aggregator.adapters.streams import StreamReader
from aggregator.handlers import aggregate, alert
from aggregator.usecases.repair import repair_date, repair_stream_failures
from tests.integration.test_stream_handlers import DATE, ingest_files, set_threshold


def failed_batch(stream_event: dict) -> str:
    """What the stream trigger's on-failure destination receives for a discarded batch."""
    records = stream_event["Records"]
    return json.dumps(
        {
            "DDBStreamBatchInfo": {
                "streamArn": records[0]["eventSourceARN"],
                "shardId": "shardId-00000000000000000000-00000000",
                "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                "batchSize": len(records),
            }
        }
    )


def repair_queue(aws, *bodies: str) -> Queue:
    url = aws.sqs.create_queue(QueueName="stream-failures")["QueueUrl"]
    for body in bodies:
        aws.sqs.send_message(QueueUrl=url, MessageBody=body)
    return Queue(aws.sqs, url, wait_seconds=0)


def repairer(aws, marker: str = "repair-1"):
    values = InstanceValuesTable(aws.dynamodb, "InstanceValuesTable")
    aggregates = AggregatesTable(aws.dynamodb, "AggregatesTable")
    return lambda date: repair_date(date, values, aggregates, alert.alerter(), marker)


def shard_of(aws, table: str) -> str:
    arn = aws.dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    return aws.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]


def test_a_failed_aggregate_batch_is_repaired_from_current_values(aws, context):
    values = aws.stream("InstanceValuesTable")
    ingest_files(aws, context, {"i-1": "A 5 B 7", "i-2": "A 10"})
    lost = values.event()  # the aggregate function gave up on this batch: no sums written
    body = failed_batch(lost).replace("shardId-00000000000000000000-00000000", shard_of(aws, "InstanceValuesTable"))
    queue = repair_queue(aws, body)

    result = repair_stream_failures(queue, StreamReader(aws.streams), repairer(aws))

    assert (aws.aggregate("A", DATE), aws.aggregate("B", DATE)) == (15, 7)
    assert result.messages == 1 and [r.date for r in result.repaired] == [DATE] and result.unreadable == []
    assert list(queue.drain()) == []


def test_a_replayed_stale_alert_batch_does_not_raise_a_recovered_alarm(aws, context):
    """The defect `verify` found (seed 230): re-feeding a discarded batch after later changes
    announced ALARM for a sum that had already recovered."""
    set_threshold(aws, "A", 20)
    values, sums = aws.stream("InstanceValuesTable"), aws.stream("AggregatesTable")
    ingest_files(aws, context, {"i-1": "A 30"}, sampled_at=1000)
    aggregate.handler(values.event(), context)
    discarded = sums.event()  # A = 30: the alert function gave up on it
    ingest_files(aws, context, {"i-1": "A 12"}, sampled_at=2000)
    aggregate.handler(values.event(), context)
    assert alert.handler(sums.event(), context) == {"batchItemFailures": []}  # A = 12: nothing to say
    body = failed_batch(discarded).replace("shardId-00000000000000000000-00000000", shard_of(aws, "AggregatesTable"))

    result = repair_stream_failures(repair_queue(aws, body), StreamReader(aws.streams), repairer(aws))

    assert aws.alerts_received() == []
    assert result.repaired[0].alerts == [] and aws.aggregate("A", DATE) == 12


def test_a_transition_the_alert_function_missed_is_announced_once(aws, context):
    set_threshold(aws, "A", 20)
    values = aws.stream("InstanceValuesTable")
    ingest_files(aws, context, {"i-1": "A 30"})
    aggregate.handler(values.event(), context)  # A = 30 reached the stream; its alert batch was lost

    first = repairer(aws, "repair-1")(DATE)
    second = repairer(aws, "repair-2")(DATE)

    assert [(a.state, a.value, a.transition_id) for a in first.alerts] == [("ALARM", 30, f"A/{DATE}/ALARM/repair-1")]
    assert second.alerts == [] and first.corrected == 0
    assert [a["state"] for a in aws.alerts_received()] == ["ALARM"]


class TrimmedStream:
    """DynamoDB Streams once the records are past their 24 hours (moto does not trim)."""

    def get_shard_iterator(self, **_):
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "TrimmedDataAccessException", "Message": "trimmed"}}, "GetShardIterator")


def test_a_batch_the_stream_no_longer_holds_stays_queued_and_is_reported(aws, context):
    ingest_files(aws, context, {"i-1": "A 1"})
    values = aws.stream("InstanceValuesTable")
    queue = repair_queue(aws, failed_batch(values.event()), "not json at all")

    result = repair_stream_failures(queue, StreamReader(TrimmedStream()), repairer(aws))

    assert result.messages == 0 and result.repaired == []
    assert len(result.unreadable) == 2 and "no longer in the stream" in result.unreadable[0]
    assert "not a stream batch description" in result.unreadable[1]
    assert aws.aggregate("A", DATE) is None
    assert len(list(Queue(aws.sqs, queue.url, wait_seconds=0).drain())) == 0  # hidden, not deleted
    attributes = aws.sqs.get_queue_attributes(
        QueueUrl=queue.url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )
    assert attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "2"


def test_a_repair_racing_the_live_alert_function_announces_once(aws, context, monkeypatch):
    from aggregator.adapters.dynamodb import AlertStatesTable

    set_threshold(aws, "A", 20)
    values, sums = aws.stream("InstanceValuesTable"), aws.stream("AggregatesTable")
    ingest_files(aws, context, {"i-1": "A 30"})
    aggregate.handler(values.event(), context)
    real_claim = AlertStatesTable.claim
    live_ran = []

    def claim_after_the_live_function(self, key, **kwargs):
        if not live_ran:  # the live function announces A = 30 just before the repair claims it
            live_ran.append("running")
            live_ran[0] = alert.handler(sums.event(), context)
        return real_claim(self, key, **kwargs)

    monkeypatch.setattr(AlertStatesTable, "claim", claim_after_the_live_function)
    repair = repairer(aws)(DATE)

    assert live_ran == [{"batchItemFailures": []}] and repair.alerts == []
    assert [a["state"] for a in aws.alerts_received()] == ["ALARM"]
