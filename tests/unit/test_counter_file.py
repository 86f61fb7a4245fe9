import pytest

from aggregator.domain.counter_file import MalformedFile, format_counter_file, parse_counter_file


def test_pairs_separated_by_any_whitespace():
    assert parse_counter_file(b"A 1\tB -2\n\nC\r\n+3 D:x/y.z-_ 0") == {"A": 1, "B": -2, "C": 3, "D:x/y.z-_": 0}


def test_empty_file_has_no_counters():
    assert parse_counter_file(b"") == {}
    assert parse_counter_file(b"  \n\t ") == {}


def test_int64_bounds_are_accepted():
    text = f"LOW {-(2**63)} HIGH {2**63 - 1}".encode()
    assert parse_counter_file(text) == {"LOW": -(2**63), "HIGH": 2**63 - 1}


@pytest.mark.parametrize(
    ("data", "reason", "position"),
    [
        (b"A 1 B", "odd number of tokens (3)", "token 3, line 1"),
        (b"A 1\nB! 2", "bad counter name 'B!'", "token 3, line 2"),
        (b"A 1.5", "value '1.5' of counter A is not a base-10 integer", "token 2, line 1"),
        (b"A 0x10", "is not a base-10 integer", "token 2"),
        (b"A 9223372036854775808", "does not fit a signed 64-bit integer", "token 2, line 1"),
        (b"A -9223372036854775809", "does not fit a signed 64-bit integer", "token 2"),
        (b"A 123456789012345678901234567890", "does not fit a signed 64-bit integer", "token 2"),
        (b"A 1\nB 2\nA 3", "counter A appears more than once", "token 5, line 3"),
        (b"A 1 \xff\xfe 2", "not valid UTF-8", "byte 4"),
        (("X" * 256 + " 1").encode(), "bad counter name", "token 1"),
        ("CAFÉ 1".encode(), "bad counter name", "token 1"),
    ],
)
def test_malformed_files_name_the_fault_and_where(data, reason, position):
    with pytest.raises(MalformedFile) as caught:
        parse_counter_file(data)
    assert reason in caught.value.reason
    assert position in caught.value.position


def test_long_tokens_are_cut_short_in_the_reason():
    with pytest.raises(MalformedFile) as caught:
        parse_counter_file(b"A " + b"9" * 5000 + b"x")
    assert len(caught.value.reason) < 200


def test_format_round_trips():
    counters = {"A": 1, "B": -5}
    assert parse_counter_file(format_counter_file(counters).encode()) == counters
