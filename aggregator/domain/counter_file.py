"""Parsing and validating a counter file (contract: ARCHITECTURE.md, "Counter file")."""

from __future__ import annotations

import re

NAME_PATTERN = re.compile(rb"[A-Za-z0-9_.:/-]{1,255}")
VALUE_PATTERN = re.compile(rb"[+-]?[0-9]{1,19}")
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_TOKEN = re.compile(rb"\S+")


class MalformedFile(ValueError):
    """The file breaks the contract; nothing of it may be applied."""

    def __init__(self, reason: str, position: str):
        super().__init__(f"{reason} ({position})")
        self.reason = reason
        self.position = position


def parse_counter_file(data: bytes) -> dict[str, int]:
    """Return {counter: value} for a whole file, or raise MalformedFile naming the first fault.

    Tokens are separated by ASCII whitespace (space, tab, CR, LF, VT, FF). A position names the
    token (1-based) and its line, so an operator can find the fault without the system ever
    logging the file's contents.
    """
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedFile("file is not valid UTF-8", f"byte {exc.start}") from exc
    tokens = data.split()
    if len(tokens) % 2:
        last = len(tokens) - 1
        raise MalformedFile(
            f"odd number of tokens ({len(tokens)}): counter {_shown(tokens[last])} has no value",
            _position(data, last),
        )
    counters: dict[str, int] = {}
    for index in range(0, len(tokens), 2):
        name, raw_value = tokens[index], tokens[index + 1]
        if not NAME_PATTERN.fullmatch(name):
            raise MalformedFile(
                f"bad counter name {_shown(name)}: use 1-255 of letters, digits, _ . : / -",
                _position(data, index),
            )
        text_name = name.decode("ascii")
        value = int(raw_value) if VALUE_PATTERN.fullmatch(raw_value) else None
        if value is None and re.fullmatch(rb"[+-]?[0-9]+", raw_value):
            value = INT64_MAX + 1  # too many digits: report as out of range below
        if value is None:
            raise MalformedFile(
                f"value {_shown(raw_value)} of counter {text_name} is not a base-10 integer",
                _position(data, index + 1),
            )
        if not INT64_MIN <= value <= INT64_MAX:
            raise MalformedFile(
                f"value {_shown(raw_value)} of counter {text_name} does not fit a signed 64-bit integer",
                _position(data, index + 1),
            )
        if text_name in counters:
            raise MalformedFile(f"counter {text_name} appears more than once", _position(data, index))
        counters[text_name] = value
    return counters


def format_counter_file(counters: dict[str, int]) -> str:
    """Render counters as the file an instance uploads, one pair a line."""
    return "".join(f"{name} {value}\n" for name, value in counters.items())


def _position(data: bytes, token_index: int) -> str:
    """'token N, line L' for the token at token_index (only computed on the error path)."""
    for index, match in enumerate(_TOKEN.finditer(data)):
        if index == token_index:
            line = data.count(b"\n", 0, match.start()) + 1
            return f"token {token_index + 1}, line {line}"
    return f"token {token_index + 1}"


def _shown(token: bytes, limit: int = 40) -> str:
    """A token quoted for an error message, cut short so a huge token cannot bloat the record."""
    text = token.decode("utf-8", errors="replace")
    return repr(text if len(text) <= limit else text[:limit] + "…")
