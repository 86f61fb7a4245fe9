"""The contract scenarios, run against `bin/counters up` exactly as instances and ops use it."""

import json
import time

from tests.e2e.conftest import eventually


def test_four_instances_sum_to_191122_and_the_snapshot_agrees(stack, tmp_path):
    date = "2026-01-01"
    for instance, value in (("i-1", 12345), ("i-2", 123456), ("i-3", 1000), ("i-4", 54321)):
        stack.put(f"counters/{date}/{instance}", f"COUNTER1 {value}\n")

    assert eventually(lambda: stack.query(date).get("COUNTER1") == 191122)

    def snapshot():
        s3 = stack.client("s3")
        try:
            body = s3.get_object(Bucket=stack.outputs["BucketName"], Key=f"snapshots/{date}.json")
        except s3.exceptions.NoSuchKey:
            return {}  # the snapshot function has not run yet
        return json.loads(body["Body"].read())["counters"]

    assert eventually(lambda: snapshot().get("COUNTER1") == 191122)


def test_older_upload_arriving_after_a_newer_one_does_not_overwrite_it(stack, tmp_path):
    date = "2026-01-02"
    newer, older = tmp_path / "newer.txt", tmp_path / "older.txt"
    newer.write_text("COUNTER1 200 COUNTER2 20\n")
    older.write_text("COUNTER1 100 COUNTER2 10\n")
    now = int(time.time() * 1000)
    stack.counters("upload", str(newer), "--instance", "i-7", "--date", date, "--sampled-at", str(now))
    stack.counters("upload", str(older), "--instance", "i-7", "--date", date, "--sampled-at", str(now - 60_000))
    # A marker from another instance, uploaded last, shows the pipeline has got past both uploads.
    marker = tmp_path / "marker.txt"
    marker.write_text("MARKER 1\n")
    stack.counters("upload", str(marker), "--instance", "i-8", "--date", date)

    eventually(lambda: stack.query(date).get("MARKER") == 1)
    assert {k: v for k, v in stack.query(date).items() if k != "MARKER"} == {"COUNTER1": 200, "COUNTER2": 20}


def test_same_event_delivered_many_times_changes_no_sum(stack):
    date = "2026-01-03"
    stack.put(f"counters/{date}/i-1", "COUNTER1 5 COUNTER2 6\n")
    eventually(lambda: stack.query(date) == {"COUNTER1": 5, "COUNTER2": 6})
    sqs = stack.client("sqs")
    # Capture a real delivery by subscribing a second queue to the uploads topic, then replay it.
    tap = sqs.create_queue(QueueName="e2e-uploads-tap")["QueueUrl"]
    tap_arn = sqs.get_queue_attributes(QueueUrl=tap, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    stack.client("sns").subscribe(TopicArn=stack.outputs["UploadsTopicArn"], Protocol="sqs", Endpoint=tap_arn)
    stack.put(f"counters/{date}/i-2", "COUNTER1 1\n")
    body = eventually(lambda: sqs.receive_message(QueueUrl=tap, WaitTimeSeconds=1).get("Messages"))[0]["Body"]
    for _ in range(5):
        sqs.send_message(QueueUrl=stack.outputs["IngestQueueUrl"], MessageBody=body)
    stack.put(f"counters/{date}/i-3", "DONE 1\n")

    eventually(lambda: stack.query(date).get("DONE") == 1)
    assert stack.query(date) == {"COUNTER1": 6, "COUNTER2": 6, "DONE": 1}


def test_malformed_file_is_listed_by_errors_and_replayed_after_the_fix(stack, tmp_path):
    date = "2026-01-04"
    bad_key = f"counters/{date}/i-bad"
    stack.put(bad_key, "COUNTER1 5 COUNTER2 five\n")
    stack.put(f"counters/{date}/i-good", "COUNTER1 7\n")

    eventually(lambda: stack.query(date).get("COUNTER1") == 7)
    errors = eventually(
        lambda: [
            e
            for e in json.loads(stack.counters("errors", "--format", "json").stdout)["quarantined"]
            if e["key"] == bad_key
        ]
    )
    assert errors[0]["kind"] == "malformed"
    assert "COUNTER2" in errors[0]["reason"]
    assert stack.query(date) == {"COUNTER1": 7}  # nothing of the bad file

    stack.put(bad_key, "COUNTER1 5 COUNTER2 55\n")  # the instance (or ops) fixes the object
    result = stack.counters("replay", "--key", bad_key)
    assert "applied" in result.stdout

    assert eventually(lambda: stack.query(date) == {"COUNTER1": 12, "COUNTER2": 55})
    remaining = json.loads(stack.counters("errors", "--format", "json").stdout)["quarantined"]
    assert [e for e in remaining if e["key"] == bad_key] == []


def test_threshold_crossed_up_then_down_sends_one_alarm_then_one_ok(stack, tmp_path):
    date = "2026-01-05"
    sqs, sns = stack.client("sqs"), stack.client("sns")
    inbox = sqs.create_queue(QueueName="e2e-alert-subscriber")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(
        TopicArn=stack.outputs["AlertsTopicArn"],
        Protocol="sqs",
        Endpoint=inbox_arn,
        Attributes={"FilterPolicy": json.dumps({"counter": ["E2E_ERRORS"]})},
    )
    stack.counters("thresholds", "set", "E2E_ERRORS", "100")
    assert "E2E_ERRORS" in stack.counters("thresholds", "list").stdout
    time.sleep(1.5)  # the local stack caches thresholds for 1 s

    file = tmp_path / "counters.txt"
    for value in (50, 150, 170, 90, 80):
        file.write_text(f"E2E_ERRORS {value}\n")
        stack.counters("upload", str(file), "--instance", "i-1", "--date", date)
        eventually(lambda v=value: stack.query(date).get("E2E_ERRORS") == v)

    messages = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(messages) < 3:
        for message in sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        ):
            envelope = json.loads(message["Body"])
            messages.append((json.loads(envelope["Message"]), envelope["MessageAttributes"]))
    assert [(m["state"], m["value"], m["previousValue"], m["threshold"]) for m, _ in messages] == [
        ("ALARM", 150, 50, 100),
        ("OK", 90, 170, 100),
    ]
    assert messages[0][1]["state"]["Value"] == "ALARM"
    alerts = json.loads(stack.counters("alerts", "--date", date, "--format", "json").stdout)
    assert [(a["counter"], a["state"]) for a in alerts] == [("E2E_ERRORS", "OK")]


def test_query_json_returns_every_counter_of_a_date(stack, tmp_path):
    date = "2026-01-06"
    names = [f"metric.{n:03d}" for n in range(30)]
    file = tmp_path / "counters.txt"
    file.write_text("".join(f"{name} {n}\n" for n, name in enumerate(names)))
    stack.counters("upload", str(file), "--instance", "i-1", "--date", date)
    stack.put("counters/2026-01-07/i-1", "metric.000 99\n")  # another date stays out

    rows = eventually(
        lambda: (
            (r := json.loads(stack.counters("query", "--date", date, "--format", "json").stdout)) and len(r) == 30 and r
        )
    )
    assert rows == [{"counter": name, "date": date, "value": n} for n, name in enumerate(names)]
    csv_lines = stack.counters("query", "--date", date, "--format", "csv").stdout.splitlines()
    assert csv_lines[0] == "counter,date,value" and len(csv_lines) == 31
    one = json.loads(stack.counters("query", "--date", date, "--counter", "metric.007", "--format", "json").stdout)
    assert one == [{"counter": "metric.007", "date": date, "value": 7}]


def test_replay_of_a_date_repairs_a_lost_sum_and_stream_failures_replay_reports(stack):
    date = "2026-01-09"
    stack.put(f"counters/{date}/i-1", "LOST 40\n")
    stack.put(f"counters/{date}/i-2", "LOST 2\n")
    eventually(lambda: stack.query(date).get("LOST") == 42)
    # As if the aggregate function's batch had been discarded after a wrong sum was left behind.
    stack.client("dynamodb").put_item(
        TableName=stack.outputs["AggregatesTableName"],
        Item={"Counter": {"S": "LOST"}, "Date": {"S": date}, "Value": {"N": "1"}},
    )

    result = stack.counters("replay", "--date", date)

    assert f"recomputed the aggregates of {date}: 1 corrected" in result.stdout
    assert stack.query(date)["LOST"] == 42
    empty = stack.counters("replay", "--stream-failures")
    assert "repaired 0 date(s) named by 0 failed stream batch(es)" in empty.stdout
