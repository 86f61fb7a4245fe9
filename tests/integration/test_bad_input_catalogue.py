"""Every bad input: a clear, specific error where `errors` shows it, nothing half-applied, replay after the fix."""

import pytest

from aggregator.adapters.dynamodb import InstanceValuesTable, QuarantineTable
from aggregator.adapters.s3 import S3Objects
from aggregator.handlers.ingest import handler
from aggregator.usecases.ingest import Ingestor
from tests.integration.conftest import BUCKET
from tests.utils import load_event, sns_body, sqs_event, upload_event

DATE = "2026-11-22"
KEY = f"counters/{DATE}/i-0bad"
GOOD = "COUNTER1 7\nCOUNTER2 8\n"


def ingestor(aws, **options) -> Ingestor:
    return Ingestor(
        S3Objects(aws.s3, BUCKET),
        InstanceValuesTable(aws.dynamodb, "InstanceValuesTable"),
        QuarantineTable(aws.dynamodb, "QuarantineTable"),
        **options,
    )


CATALOGUE = [
    ("odd-token-count", b"COUNTER1 7 COUNTER2", "odd number of tokens (3): counter 'COUNTER2' has no value"),
    ("bad-name", b"COUNTER1 7 bad@name 8", "bad counter name 'bad@name'"),
    ("non-integer", b"COUNTER1 7 COUNTER2 eight", "value 'eight' of counter COUNTER2 is not a base-10 integer"),
    ("float", b"COUNTER1 7 COUNTER2 8.5", "value '8.5' of counter COUNTER2 is not a base-10 integer"),
    (
        "out-of-range",
        b"COUNTER1 7 COUNTER2 9223372036854775808",
        "value '9223372036854775808' of counter COUNTER2 does not fit a signed 64-bit integer",
    ),
    ("duplicate", b"COUNTER1 7 COUNTER2 8 COUNTER1 9", "counter COUNTER1 appears more than once"),
    ("non-utf8", b"COUNTER1 7 COUNTER2 \xff\xfe", "file is not valid UTF-8"),
]


@pytest.mark.parametrize(("case", "body", "reason"), CATALOGUE, ids=[c[0] for c in CATALOGUE])
def test_malformed_file_is_quarantined_whole_then_replayed_after_the_fix(aws, context, case, body, reason):
    aws.put(KEY, body, sampled_at=1000)

    assert handler(upload_event(KEY), context) == {"batchItemFailures": []}

    assert aws.instance_values("COUNTER1", DATE) == {}  # not even the good counter before the fault
    [entry] = aws.quarantined()
    assert entry["Kind"]["S"] == "malformed"
    assert reason in entry["Reason"]["S"]
    assert entry["Position"]["S"].startswith(("token", "byte"))

    aws.put(KEY, GOOD, sampled_at=2000)
    assert ingestor(aws).replay(KEY).status == "applied"
    assert aws.instance_values("COUNTER1", DATE) == {"i-0bad": 7}
    assert aws.quarantined() == []


def test_empty_file_is_valid_and_applies_nothing(aws, context):
    aws.put(KEY, b"", sampled_at=1000)
    assert handler(upload_event(KEY), context) == {"batchItemFailures": []}
    assert aws.quarantined() == []
    assert aws.dynamodb.scan(TableName="InstanceValuesTable")["Items"] == []


def test_file_with_too_many_counters_is_rejected_with_the_limit(aws, context, monkeypatch):
    monkeypatch.setenv("MAX_COUNTERS_PER_FILE", "10000")
    body = "".join(f"c{n} {n}\n" for n in range(50_000))
    aws.put(KEY, body, sampled_at=1000)

    assert handler(upload_event(KEY), context) == {"batchItemFailures": []}

    [entry] = aws.quarantined()
    assert entry["Kind"]["S"] == "too-many-counters"
    assert "file has 50000 counters; the limit is 10000 per file" in entry["Reason"]["S"]
    assert aws.dynamodb.scan(TableName="InstanceValuesTable", Limit=1)["Items"] == []


def test_key_outside_the_convention_then_replay_still_refuses_it(aws, context):
    key = "counters/2026-11-22/i-1/extra"
    aws.put(key, GOOD)
    handler(upload_event(key), context)
    [entry] = aws.quarantined()
    assert entry["Kind"]["S"] == "rejected-key"
    assert ingestor(aws).replay(key).status == "quarantined"  # a bad key stays bad: never guessed at


def test_object_deleted_before_it_is_read(aws, context):
    aws.put(KEY, GOOD)
    aws.s3.delete_object(Bucket=BUCKET, Key=KEY)
    handler(upload_event(KEY), context)
    [entry] = aws.quarantined()
    assert entry["Kind"]["S"] == "missing-object"
    assert KEY in entry["Reason"]["S"]


def test_s3_test_event_changes_nothing(aws, context):
    assert handler(load_event("sqs_sns_s3_test_event"), context) == {"batchItemFailures": []}
    assert aws.quarantined() == []


def test_sns_message_that_is_not_an_s3_event_is_kept_for_inspection(aws, context):
    event = sqs_event(sns_body({"AlarmName": "something else"}))
    handler(event, context)
    [entry] = aws.quarantined()
    assert entry["Kind"]["S"] == "unrecognised-message"
    assert entry["ObjectKey"]["S"] == f"sqs-message/{event['Records'][0]['messageId']}"
    assert "AlarmName" in entry["Detail"]["S"]


def test_counter_whose_item_would_exceed_400_kb_names_the_counter(aws, context, monkeypatch):
    """moto does not enforce the item size limit, so DynamoDB's answer is played at the client."""
    from botocore.exceptions import ClientError

    aws.put(KEY, "SMALL 1 HUGE 2", sampled_at=1000)
    real_update = InstanceValuesTable.put_value

    def limited(self, counter, date, instance, value, stamp):
        if counter == "HUGE":
            raise InstanceValuesTable._domain_error(
                ClientError(
                    {
                        "Error": {
                            "Code": "ValidationException",
                            "Message": "Item size to update has exceeded the maximum allowed size",
                        }
                    },
                    "UpdateItem",
                ),
                counter,
                date,
                instance,
            )
        return real_update(self, counter, date, instance, value, stamp)

    monkeypatch.setattr(InstanceValuesTable, "put_value", limited)
    for _ in range(2):  # a redelivery meets the same answer: quarantined again, never a crash loop
        assert handler(upload_event(KEY), context) == {"batchItemFailures": []}
    [entry] = aws.quarantined()
    assert entry["Kind"]["S"] == "too-large"
    assert "counter HUGE on 2026-11-22 would exceed DynamoDB's 400 KB item limit" in entry["Reason"]["S"]
    assert entry["Attempts"]["N"] == "2"
