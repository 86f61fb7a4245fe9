import pytest

from aggregator.domain.keys import RejectedKey, date_prefix, parse_date, parse_key, upload_key


def test_key_names_date_and_instance():
    key = parse_key("counters/2026-11-22/i-0abc123")
    assert (key.date, key.instance) == ("2026-11-22", "i-0abc123")


def test_prefix_is_honoured():
    assert parse_key("env/prod/counters/2026-11-22/i-1", "env/prod/").instance == "i-1"
    with pytest.raises(RejectedKey):
        parse_key("counters/2026-11-22/i-1", "env/prod/")


@pytest.mark.parametrize(
    "key",
    [
        "other/2026-11-22/i-1",
        "counters/2026-11-22",
        "counters/2026-11-22/",
        "counters/2026-11-22/i-1/extra",
        "counters/2026-13-01/i-1",
        "counters/22-11-2026/i-1",
        "counters/2026-11-22/i 1",
        "counters/2026-11-22/" + "i" * 129,
    ],
)
def test_keys_outside_the_convention_are_rejected(key):
    with pytest.raises(RejectedKey):
        parse_key(key)


def test_upload_key_validates_its_parts():
    assert upload_key("2026-11-22", "i-1") == "counters/2026-11-22/i-1"
    with pytest.raises(ValueError):
        upload_key("2026-02-30", "i-1")
    with pytest.raises(RejectedKey):
        upload_key("2026-11-22", "bad/instance")


def test_date_must_be_a_calendar_date():
    assert parse_date("2024-02-29") == "2024-02-29"
    with pytest.raises(ValueError, match="calendar"):
        parse_date("2026-02-29")
    assert date_prefix("2026-11-22", "p/") == "p/counters/2026-11-22/"
