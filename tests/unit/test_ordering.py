import datetime as dt

from aggregator.domain.ordering import make_stamp, parse_event_time, upload_stamp

T = dt.datetime(2026, 11, 22, 10, 0, 0, tzinfo=dt.UTC)


def test_later_sample_sorts_later_even_within_one_second():
    assert make_stamp(1_000) < make_stamp(1_001)
    assert make_stamp(999) < make_stamp(1_000)  # fixed width: no lexical surprises


def test_sequencer_breaks_ties_within_a_millisecond_right_padded():
    # S3: right-pad the shorter sequencer with zeros, then compare lexically.
    assert make_stamp(5, "0055AED6DCD90281E5") < make_stamp(5, "0055AED6DCD90281E6")
    assert make_stamp(5, "0055AED6DCD9028") < make_stamp(5, "0055AED6DCD90281")
    assert make_stamp(5, "0055AED6DCD9028") == make_stamp(5, "0055AED6DCD902800")  # equal once padded
    assert make_stamp(5, "0055AED6DCD90280") < make_stamp(5, "0055AED6DCD9028001")
    assert make_stamp(5, None) < make_stamp(5, "00AB")
    assert make_stamp(5, "FF") < make_stamp(6, None)


def test_stamp_is_short():
    assert make_stamp(1795346400123) == "1795346400123"
    assert make_stamp(1795346400123, "0055AED6DCD90281E5") == "1795346400123.0055AED6DCD90281E5"


def test_metadata_sample_time_wins_over_event_time():
    stamp = upload_stamp({"sampled-at": "1795000000123"}, "2026-11-22T10:00:00.000Z", T, "0A", True)
    assert stamp == "1795000000123.0A"


def test_event_time_and_sequencer_used_when_reading_the_exact_version():
    stamp = upload_stamp({}, "2026-11-22T10:00:00.250Z", T, "0A", True)
    assert stamp == make_stamp(parse_event_time("2026-11-22T10:00:00.250Z"), "0A")


def test_reading_latest_ignores_the_events_own_time_and_sequencer():
    # The content read may be a newer write than the event describes.
    assert upload_stamp({}, "2030-01-01T00:00:00Z", T, "FF", False) == make_stamp(int(T.timestamp() * 1000))


def test_unreadable_metadata_falls_back():
    stamp = upload_stamp({"sampled-at": "soon"}, None, T, None, False)
    assert stamp == make_stamp(int(T.timestamp() * 1000))
