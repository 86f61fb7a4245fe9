"""The daily snapshot document downstream jobs read from snapshots/<date>.json."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping


def snapshot_key(date: str, prefix: str = "") -> str:
    return f"{prefix}snapshots/{date}.json"


def snapshot_document(date: str, counters: Mapping[str, int], generated_at: dt.datetime) -> str:
    """All counters of one date with their aggregate values, sorted by name."""
    return json.dumps(
        {
            "date": date,
            "generatedAt": generated_at.astimezone(dt.UTC).isoformat(timespec="milliseconds"),
            "counters": {name: counters[name] for name in sorted(counters)},
        },
        indent=1,
    )
