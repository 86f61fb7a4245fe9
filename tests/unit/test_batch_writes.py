"""AggregatesTable's batching rules, against a recording stand-in for the DynamoDB client."""

import pytest

from aggregator.adapters import dynamodb as ddb
from aggregator.adapters.dynamodb import AggregatesTable
from aggregator.domain.errors import StoreUnavailable


class RecordingClient:
    def __init__(self, leave_unprocessed: int = 0):
        self.calls = []
        self.leave_unprocessed = leave_unprocessed

    def batch_write_item(self, RequestItems):
        self.calls.append(RequestItems)
        [(table, requests)] = RequestItems.items()
        if self.leave_unprocessed:
            self.leave_unprocessed -= 1
            return {"UnprocessedItems": {table: requests[-1:]}}
        return {"UnprocessedItems": {}}


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr(ddb, "_backoff", lambda attempt: None)


def test_writes_go_in_chunks_of_at_most_25():
    client = RecordingClient()
    AggregatesTable(client, "T").write_values({(f"c{n:03d}", "d"): n for n in range(60)})
    assert [len(call["T"]) for call in client.calls] == [25, 25, 10]


def test_unprocessed_items_are_sent_again():
    client = RecordingClient(leave_unprocessed=2)
    AggregatesTable(client, "T").write_values({("a", "d"): 1, ("b", "d"): 2})
    assert [len(call["T"]) for call in client.calls] == [2, 1, 1]
    assert client.calls[1]["T"] == [
        {"PutRequest": {"Item": {"Counter": {"S": "b"}, "Date": {"S": "d"}, "Value": {"N": "2"}}}}
    ]


def test_items_never_processed_raise_for_a_retry_of_the_batch():
    client = RecordingClient(leave_unprocessed=100)
    with pytest.raises(StoreUnavailable, match="left unprocessed"):
        AggregatesTable(client, "T").write_values({("a", "d"): 1})


def test_a_removed_item_deletes_its_aggregate():
    client = RecordingClient()
    AggregatesTable(client, "T").write_values({("a", "d"): None})
    assert client.calls[0]["T"] == [{"DeleteRequest": {"Key": {"Counter": {"S": "a"}, "Date": {"S": "d"}}}}]
