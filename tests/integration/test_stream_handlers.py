"""Aggregate, alert and snapshot functions against moto, fed with the tables' real streams."""

import json

from aggregator.handlers import aggregate, alert, snapshot
from aggregator.handlers.ingest import handler as ingest
from tests.integration.conftest import BUCKET
from tests.utils import aggregates_event, load_event, upload_event

DATE = "2026-11-22"


def ingest_files(aws, context, files: dict[str, str], sampled_at: int = 1000) -> None:
    keys = []
    for instance, body in files.items():
        key = f"counters/{DATE}/{instance}"
        aws.put(key, body, sampled_at=sampled_at)
        keys.append(key)
    assert ingest(upload_event(*keys), context) == {"batchItemFailures": []}


def test_four_instances_sum_to_191122(aws, context):
    reader = aws.stream("InstanceValuesTable")
    ingest_files(
        aws,
        context,
        {"i-1": "COUNTER1 12345", "i-2": "COUNTER1 123456", "i-3": "COUNTER1 1000", "i-4": "COUNTER1 54321"},
    )

    assert aggregate.handler(reader.event(), context) == {"batchItemFailures": []}

    assert aws.aggregate("COUNTER1", DATE) == 191122


def test_retried_and_duplicated_stream_batches_change_nothing(aws, context):
    reader = aws.stream("InstanceValuesTable")
    ingest_files(aws, context, {"i-1": "A 1 B 2", "i-2": "A 10 B 20"})
    event = reader.event()
    aggregate.handler(event, context)
    aggregates_reader = aws.stream("AggregatesTable")
    aggregates_reader.event()

    doubled = {"Records": event["Records"] + event["Records"]}
    for _ in range(3):
        assert aggregate.handler(event, context) == {"batchItemFailures": []}
        assert aggregate.handler(doubled, context) == {"batchItemFailures": []}

    assert (aws.aggregate("A", DATE), aws.aggregate("B", DATE)) == (11, 22)
    assert aggregates_reader.event()["Records"] == []  # not one write to Aggregates


def test_a_stale_image_in_the_batch_does_not_win(aws, context):
    reader = aws.stream("InstanceValuesTable")
    ingest_files(aws, context, {"i-1": "A 1"}, sampled_at=1000)
    ingest_files(aws, context, {"i-1": "A 5"}, sampled_at=2000)
    records = reader.event()["Records"]

    aggregate.handler({"Records": list(reversed(records))}, context)

    assert aws.aggregate("A", DATE) == 5


def test_unreadable_record_is_reported_and_earlier_ones_are_applied(aws, context):
    event = load_event("dynamodb_stream_instance_values")
    poison = json.loads(json.dumps(event["Records"][0]))
    poison["dynamodb"]["SequenceNumber"] = "111100000000000000000002"
    poison["dynamodb"]["NewImage"]["InstanceValues"]["M"]["i-1"] = {"N": "1.5"}
    event["Records"].append(poison)

    response = aggregate.handler(event, context)

    assert response == {"batchItemFailures": [{"itemIdentifier": "111100000000000000000002"}]}
    assert aws.aggregate("COUNTER1", DATE) == 135801


def test_failed_write_reports_the_whole_batch_for_retry(aws, context, monkeypatch):
    from aggregator.adapters.dynamodb import AggregatesTable
    from aggregator.domain.errors import StoreUnavailable

    def fail(*_):
        raise StoreUnavailable("throttled")

    monkeypatch.setattr(AggregatesTable, "write_values", fail)
    event = load_event("dynamodb_stream_instance_values")
    assert aggregate.handler(event, context) == {"batchItemFailures": [{"itemIdentifier": "111100000000000000000001"}]}


def set_threshold(aws, counter: str, value: int) -> None:
    aws.dynamodb.put_item(TableName="ThresholdsTable", Item={"Counter": {"S": counter}, "Threshold": {"N": str(value)}})


def test_threshold_crossed_up_then_down_sends_one_alarm_then_one_ok(aws, context):
    set_threshold(aws, "C", 100)
    event = aggregates_event(
        ("C", DATE, None, 50, 1),
        ("C", DATE, 50, 150, 2),
        ("C", DATE, 150, 170, 3),
        ("C", DATE, 170, 90, 4),
        ("C", DATE, 90, 80, 5),
    )
    assert alert.handler(event, context) == {"batchItemFailures": []}

    received = aws.alerts_received()
    assert [(a["state"], a["value"], a["previousValue"], a["threshold"]) for a in received] == [
        ("ALARM", 150, 50, 100),
        ("OK", 90, 170, 100),
    ]


def test_alert_carries_filterable_message_attributes(aws, context):
    set_threshold(aws, "C", 1)
    queue = aws.sqs.create_queue(QueueName="filtered")["QueueUrl"]
    arn = aws.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws.sns.subscribe(
        TopicArn=aws.alerts_topic,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"FilterPolicy": json.dumps({"state": ["ALARM"], "counter": ["C"]})},
    )
    alert.handler(aggregates_event(("C", DATE, 0, 5, 1), ("C", DATE, 5, 0, 2)), context)

    messages = aws.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(json.loads(m["Body"])["Message"])["state"] for m in messages] == ["ALARM"]


def test_retried_alert_batch_does_not_send_a_transition_twice(aws, context):
    set_threshold(aws, "C", 100)
    event = aggregates_event(("C", DATE, 50, 150, 1))
    for _ in range(3):
        assert alert.handler(event, context) == {"batchItemFailures": []}
    assert [a["state"] for a in aws.alerts_received()] == ["ALARM"]


def test_message_left_pending_by_a_failed_publish_is_sent_on_retry(aws, context, monkeypatch):
    from aggregator.adapters.sns import AlertsTopic
    from aggregator.domain.errors import StoreUnavailable

    set_threshold(aws, "C", 100)
    event = aggregates_event(("C", DATE, 50, 150, 1), ("C", DATE, 150, 160, 2))
    original = AlertsTopic.publish
    monkeypatch.setattr(AlertsTopic, "publish", lambda *a, **k: (_ for _ in ()).throw(StoreUnavailable("down")))

    first = alert.handler(event, context)
    assert first == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["dynamodb"]["SequenceNumber"]}]}
    assert aws.alerts_received() == []

    monkeypatch.setattr(AlertsTopic, "publish", original)
    assert alert.handler(event, context) == {"batchItemFailures": []}
    assert [a["state"] for a in aws.alerts_received()] == ["ALARM"]


def test_threshold_set_while_already_high_alarms_at_the_next_change(aws, context):
    alert.handler(aggregates_event(("C", DATE, None, 500, 1)), context)
    set_threshold(aws, "C", 100)
    alert.handler(aggregates_event(("C", DATE, 500, 501, 2)), context)
    assert [a["state"] for a in aws.alerts_received()] == ["ALARM"]


def test_snapshot_lists_every_counter_of_the_touched_date(aws, context):
    for counter, value in (("A", 1), ("B", 2)):
        aws.dynamodb.put_item(
            TableName="AggregatesTable",
            Item={"Counter": {"S": counter}, "Date": {"S": DATE}, "Value": {"N": str(value)}},
        )
    event = aggregates_event(("B", DATE, 2, 3, 1))

    assert snapshot.handler(event, context) == {"batchItemFailures": []}

    document = json.loads(aws.s3.get_object(Bucket=BUCKET, Key=f"snapshots/{DATE}.json")["Body"].read())
    assert document["date"] == DATE
    assert document["counters"] == {"A": 1, "B": 3}


def test_pipeline_from_upload_to_snapshot(aws, context):
    instance_stream, aggregate_stream = aws.stream("InstanceValuesTable"), aws.stream("AggregatesTable")
    ingest_files(
        aws,
        context,
        {"i-1": "COUNTER1 12345", "i-2": "COUNTER1 123456", "i-3": "COUNTER1 1000", "i-4": "COUNTER1 54321"},
    )
    aggregate.handler(instance_stream.event(), context)
    snapshot.handler(aggregate_stream.event(), context)

    document = json.loads(aws.s3.get_object(Bucket=BUCKET, Key=f"snapshots/{DATE}.json")["Body"].read())
    assert document["counters"] == {"COUNTER1": 191122}
