"""Which upload is newer: the ordering stamp (contract: ARCHITECTURE.md, "Ordering").

A stamp is a string that sorts in upload order, so DynamoDB can compare it in a condition:
  <sampled-at, 13-digit epoch milliseconds>[.<S3 sequencer without its trailing zeros>]
sampled-at comes from the object metadata the upload command writes (when the instance took
the sample); an object without it falls back to the S3 event time. The sequencer breaks ties
within one millisecond and is used only when the object read is the very version the event
names (otherwise it describes a different write than the content we apply).

S3 compares sequencers by right-padding the shorter with zeros; since '0' is the lowest hex
digit, comparing the strings with their trailing zeros removed gives the same order without
storing the padding (the stamp is stored once per instance in every counter's item, so its
length is paid on every write).
"""

from __future__ import annotations

import datetime as dt
import re

SAMPLED_AT_METADATA = "sampled-at"
_SEQUENCER = re.compile(r"[0-9A-Fa-f]{1,32}")


def make_stamp(sampled_at_ms: int, sequencer: str | None = None) -> str:
    """Build the sortable stamp for an upload."""
    if not 0 <= sampled_at_ms < 10**13:
        raise ValueError(f"sampled-at {sampled_at_ms} is out of range")
    tie = sequencer.upper().rstrip("0") if sequencer and _SEQUENCER.fullmatch(sequencer) else ""
    return f"{sampled_at_ms:013d}.{tie}" if tie else f"{sampled_at_ms:013d}"


def sampled_at_from_metadata(metadata: dict[str, str]) -> int | None:
    """The upload command's sample time in epoch ms, or None when absent or unreadable."""
    raw = metadata.get(SAMPLED_AT_METADATA)
    if raw is None or not raw.isdigit() or len(raw) > 13:
        return None
    return int(raw)


def epoch_ms(moment: dt.datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


def parse_event_time(text: str) -> int:
    """S3 eventTime (ISO-8601, e.g. 2026-11-22T10:00:00.123Z) in epoch ms."""
    return epoch_ms(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))


def upload_stamp(
    metadata: dict[str, str],
    event_time: str | None,
    last_modified: dt.datetime,
    sequencer: str | None,
    read_exact_version: bool,
) -> str:
    """The stamp of the content actually read.

    When we read the version the event names, the event's time and sequencer describe that
    content; when we read "latest" (no versionId in the event), only the object's own
    metadata and Last-Modified do.
    """
    sampled = sampled_at_from_metadata(metadata)
    if read_exact_version:
        if sampled is None and event_time:
            sampled = parse_event_time(event_time)
        return make_stamp(sampled if sampled is not None else epoch_ms(last_modified), sequencer)
    return make_stamp(sampled if sampled is not None else epoch_ms(last_modified))


def stamp_time(stamp: str) -> dt.datetime:
    """The sample time a stamp carries, for display."""
    return dt.datetime.fromtimestamp(int(stamp[:13]) / 1000, tz=dt.UTC)
