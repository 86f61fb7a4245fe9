"""The ingest function against moto: conditional, stamp-guarded writes and quarantine."""

import json

from aggregator.adapters.dynamodb import InstanceValuesTable, QuarantineTable
from aggregator.adapters.s3 import S3Objects
from aggregator.handlers.ingest import handler
from aggregator.usecases.ingest import Ingestor
from tests.integration.conftest import BUCKET
from tests.utils import load_event, s3_event_record, sns_body, sqs_event, upload_event

DATE = "2026-11-22"
KEY = f"counters/{DATE}/i-0abc123"


def test_upload_is_written_per_counter_with_its_stamp(aws, context):
    aws.put(KEY, "COUNTER1 12345 COUNTER2 7\n", sampled_at=1795346400123)

    response = handler(upload_event(KEY), context)

    assert response == {"batchItemFailures": []}
    assert aws.instance_values("COUNTER1", DATE) == {"i-0abc123": 12345}
    assert aws.instance_values("COUNTER2", DATE) == {"i-0abc123": 7}
    stamps = aws.item("COUNTER1", DATE)["InstanceStamps"]["M"]
    assert stamps["i-0abc123"]["S"] == "1795346400123"


def test_instances_share_the_counter_item(aws, context):
    for instance, value in (("i-1", 12345), ("i-2", 123456), ("i-3", 1000), ("i-4", 54321)):
        aws.put(f"counters/{DATE}/{instance}", f"COUNTER1 {value}", sampled_at=1795346400000)
    handler(upload_event(*(f"counters/{DATE}/i-{n}" for n in range(1, 5))), context)
    assert aws.instance_values("COUNTER1", DATE) == {"i-1": 12345, "i-2": 123456, "i-3": 1000, "i-4": 54321}


def test_older_upload_processed_after_a_newer_one_never_overwrites_it(aws, context):
    """The lost-update problem: the newer sample stands whatever order events are processed in."""
    old_version = aws.put(KEY, "COUNTER1 1", sampled_at=1000)
    new_version = aws.put(KEY, "COUNTER1 2", sampled_at=2000)
    newer = sns_body({"Records": [s3_event_record(KEY, version_id=new_version)]})
    older = sns_body({"Records": [s3_event_record(KEY, version_id=old_version)]})

    handler(sqs_event(newer), context)
    handler(sqs_event(older), context)  # delivered late, or retried after the newer one succeeded

    assert aws.instance_values("COUNTER1", DATE) == {"i-0abc123": 2}


def test_two_uploads_in_the_same_millisecond_are_ordered_by_sequencer(aws, context):
    first = aws.put(KEY, "COUNTER1 1", sampled_at=5000)
    second = aws.put(KEY, "COUNTER1 2", sampled_at=5000)
    later = sns_body({"Records": [s3_event_record(KEY, version_id=second, sequencer="0055AED6DCD90281F0")]})
    earlier = sns_body({"Records": [s3_event_record(KEY, version_id=first, sequencer="0055AED6DCD90281E5")]})

    handler(sqs_event(later, earlier), context)

    assert aws.instance_values("COUNTER1", DATE) == {"i-0abc123": 2}


def test_redelivered_event_writes_nothing(aws, context):
    aws.put(KEY, "COUNTER1 5 COUNTER2 6", sampled_at=1000)
    event = upload_event(KEY)
    handler(event, context)
    reader = aws.stream("InstanceValuesTable")
    reader.event()  # skip what the first delivery wrote

    for _ in range(3):
        assert handler(event, context) == {"batchItemFailures": []}

    modified = [r for r in reader.event()["Records"] if r["dynamodb"].get("NewImage") != r["dynamodb"].get("OldImage")]
    assert modified == []
    assert aws.instance_values("COUNTER1", DATE) == {"i-0abc123": 5}


def test_malformed_file_applies_nothing_and_is_quarantined_while_the_batch_goes_on(aws, context):
    bad, good = f"counters/{DATE}/i-bad", f"counters/{DATE}/i-good"
    aws.put(bad, "COUNTER1 5 COUNTER2 six", sampled_at=1000)
    aws.put(good, "COUNTER1 7", sampled_at=1000)

    response = handler(upload_event(bad, good), context)

    assert response == {"batchItemFailures": []}
    assert aws.instance_values("COUNTER1", DATE) == {"i-good": 7}  # nothing of the bad file, not even COUNTER1
    [entry] = aws.quarantined()
    assert entry["ObjectKey"]["S"] == bad
    assert entry["Kind"]["S"] == "malformed"
    assert "value 'six' of counter COUNTER2 is not a base-10 integer" in entry["Reason"]["S"]
    assert entry["Position"]["S"] == "token 4, line 1"
    assert entry["Version"]["S"] not in ("", "-")


def test_replay_after_the_object_is_fixed_applies_it_and_clears_the_entry(aws, context):
    key = f"counters/{DATE}/i-bad"
    aws.put(key, "COUNTER1 5 COUNTER1 6", sampled_at=1000)
    handler(upload_event(key), context)
    assert len(aws.quarantined()) == 1
    aws.put(key, "COUNTER1 5", sampled_at=1000)  # ops fix the object

    ingestor = Ingestor(
        S3Objects(aws.s3, BUCKET),
        InstanceValuesTable(aws.dynamodb, "InstanceValuesTable"),
        QuarantineTable(aws.dynamodb, "QuarantineTable"),
    )
    result = ingestor.replay(key)

    assert result.status == "applied"
    assert aws.instance_values("COUNTER1", DATE) == {"i-bad": 5}
    assert aws.quarantined() == []


def test_key_outside_the_convention_is_rejected_not_guessed(aws, context):
    key = "counters/yesterday/i-1"
    aws.put(key, "COUNTER1 5")
    assert handler(upload_event(key), context) == {"batchItemFailures": []}
    [entry] = aws.quarantined()
    assert entry["Kind"]["S"] == "rejected-key"
    assert "YYYY-MM-DD" in entry["Reason"]["S"]


def test_s3_test_event_is_accepted_without_effect(aws, context):
    assert handler(load_event("sqs_sns_s3_test_event"), context) == {"batchItemFailures": []}
    assert aws.quarantined() == []


def test_message_that_is_not_an_s3_event_is_quarantined(aws, context):
    response = handler(sqs_event(sns_body({"hello": "world"}), "not json at all"), context)
    assert response == {"batchItemFailures": []}
    kinds = sorted(e["Kind"]["S"] for e in aws.quarantined())
    assert kinds == ["unrecognised-message", "unrecognised-message"]


def test_object_deleted_before_it_is_read_is_recorded(aws, context):
    key = f"counters/{DATE}/i-gone"
    handler(upload_event(key), context)
    [entry] = aws.quarantined()
    assert entry["Kind"]["S"] == "missing-object"


def test_aws_failure_fails_only_that_message(aws, context, monkeypatch):
    aws.put(f"counters/{DATE}/i-1", "COUNTER1 1", sampled_at=1)
    aws.put(f"counters/{DATE}/i-2", "COUNTER1 2", sampled_at=1)
    event = upload_event(f"counters/{DATE}/i-1", f"counters/{DATE}/i-2")
    original = InstanceValuesTable.apply_upload

    def flaky(self, date, instance, counters, stamp):
        if instance == "i-1":
            from aggregator.domain.errors import StoreUnavailable

            raise StoreUnavailable("throttled")
        return original(self, date, instance, counters, stamp)

    monkeypatch.setattr(InstanceValuesTable, "apply_upload", flaky)
    response = handler(event, context)

    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert aws.instance_values("COUNTER1", DATE) == {"i-2": 2}
    assert aws.quarantined() == []  # a transient failure is retried (then dead-lettered), not quarantined


def test_sns_envelope_in_the_stored_event_is_real_json():
    body = json.loads(load_event("sqs_sns_s3_object_created")["Records"][0]["body"])
    assert json.loads(body["Message"])["Records"][0]["eventSource"] == "aws:s3"


def test_upload_written_by_another_instance_is_rejected_when_required(aws, context, monkeypatch):
    monkeypatch.setenv("REQUIRE_INSTANCE_UPLOADER", "true")
    own, foreign = f"counters/{DATE}/i-0abc123", f"counters/{DATE}/i-0other"
    aws.put(own, "COUNTER1 1", sampled_at=1)
    aws.put(foreign, "COUNTER1 2", sampled_at=1)
    # The stored event was written by the session AWS:AROAEXAMPLE:i-0abc123.
    event = sqs_event(*(sns_body({"Records": [s3_event_record(k)]}) for k in (own, foreign)))

    assert handler(event, context) == {"batchItemFailures": []}

    assert aws.instance_values("COUNTER1", DATE) == {"i-0abc123": 1}
    [entry] = aws.quarantined()
    assert (entry["ObjectKey"]["S"], entry["Kind"]["S"]) == (foreign, "rejected-uploader")
    assert "AWS:AROAEXAMPLE:i-0abc123" in entry["Reason"]["S"]
