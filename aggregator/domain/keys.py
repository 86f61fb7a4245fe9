"""The object key convention: <prefix>counters/<YYYY-MM-DD>/<instance-id>."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

INSTANCE_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,128}")
DATE_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class RejectedKey(ValueError):
    """The key does not follow the convention; it is recorded, never guessed at."""


@dataclass(frozen=True)
class UploadKey:
    date: str
    instance: str


def parse_date(text: str) -> str:
    """Return text if it is a real calendar date written YYYY-MM-DD, else raise ValueError."""
    if not DATE_PATTERN.fullmatch(text):
        raise ValueError(f"date {text!r} is not written YYYY-MM-DD")
    try:
        dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"date {text!r} is not a calendar date") from exc
    return text


def parse_key(key: str, prefix: str = "") -> UploadKey:
    """Split an object key into date and instance, or raise RejectedKey saying why."""
    head = f"{prefix}counters/"
    if not key.startswith(head):
        raise RejectedKey(f"key does not start with {head!r}")
    parts = key[len(head) :].split("/")
    if len(parts) != 2:
        raise RejectedKey(f"key must be {head}<YYYY-MM-DD>/<instance-id>")
    date, instance = parts
    try:
        parse_date(date)
    except ValueError as exc:
        raise RejectedKey(str(exc)) from exc
    if not INSTANCE_PATTERN.fullmatch(instance):
        raise RejectedKey(f"instance id {instance[:140]!r} is not 1-128 of letters, digits, _ . -")
    return UploadKey(date=date, instance=instance)


def upload_key(date: str, instance: str, prefix: str = "") -> str:
    """The key an instance uploads to; validates both parts."""
    key = f"{prefix}counters/{parse_date(date)}/{instance}"
    parse_key(key, prefix)
    return key


def date_prefix(date: str, prefix: str = "") -> str:
    return f"{prefix}counters/{parse_date(date)}/"
