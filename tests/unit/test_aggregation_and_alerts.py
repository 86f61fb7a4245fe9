import datetime as dt
import json

from aggregator.domain.aggregation import ItemChange, changed_totals, latest_per_key, total
from aggregator.domain.alerts import ALARM, OK, Alert, state_for, transition
from aggregator.domain.snapshot import snapshot_document, snapshot_key

K = ("COUNTER1", "2026-11-22")


def test_latest_image_per_key_wins_whatever_the_arrival_order():
    changes = [
        ItemChange(K, "00000000000000000000200", {"a": 2}),
        ItemChange(K, "00000000000000000000100", {"a": 1}),
        ItemChange(("C2", "2026-11-22"), "00000000000000000000150", {"a": 7}),
    ]
    latest = latest_per_key(changes)
    assert latest[K].instance_values == {"a": 2}
    assert len(latest) == 2


def test_total_is_the_sum_over_instances():
    assert total({"a": 12345, "b": 123456, "c": 1000, "d": 54321}) == 191122
    assert total({}) == 0
    assert total(None) is None


def test_only_changed_totals_are_written():
    assert changed_totals({K: 5, ("B", "d"): 3, ("C", "d"): None}, {K: 5, ("B", "d"): 2}) == {("B", "d"): 3}


def test_state_is_alarm_strictly_above_threshold():
    assert state_for(11, 10) == ALARM
    assert state_for(10, 10) == OK
    assert state_for(11, None) == OK


def test_transitions_only_on_crossing_and_recovery():
    assert transition(None, 11, 10) == ALARM
    assert transition(ALARM, 12, 10) is None
    assert transition(ALARM, 9, 10) == OK
    assert transition(OK, 9, 10) is None
    assert transition(None, 9, 10) is None


def test_threshold_removed_while_in_alarm_recovers():
    assert transition(ALARM, 50, None) == OK


def test_alert_message_contract():
    alert = Alert("C", "2026-11-22", 11, 9, 10, ALARM, dt.datetime(2026, 11, 22, tzinfo=dt.UTC), "t1")
    body = json.loads(alert.body())
    assert body == {
        "counter": "C",
        "date": "2026-11-22",
        "value": 11,
        "previousValue": 9,
        "threshold": 10,
        "state": "ALARM",
        "at": "2026-11-22T00:00:00.000+00:00",
        "transitionId": "t1",
    }
    assert alert.attributes() == {"counter": "C", "state": "ALARM", "date": "2026-11-22"}


def test_snapshot_document_lists_counters_sorted():
    doc = json.loads(snapshot_document("2026-11-22", {"b": 2, "a": 1}, dt.datetime(2026, 11, 22, tzinfo=dt.UTC)))
    assert list(doc["counters"]) == ["a", "b"]
    assert snapshot_key("2026-11-22", "p/") == "p/snapshots/2026-11-22.json"
