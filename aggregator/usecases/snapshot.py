"""Snapshot: for each date a batch touches, write snapshots/<date>.json with all its counters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from aggregator.adapters.dynamodb import AggregatesTable
from aggregator.adapters.s3 import S3Objects
from aggregator.domain.aggregation import CounterKey
from aggregator.domain.snapshot import snapshot_document, snapshot_key


def write_snapshots(
    latest: Mapping[CounterKey, int | None],
    aggregates: AggregatesTable,
    objects: S3Objects,
    now: dt.datetime,
    key_prefix: str = "",
) -> list[str]:
    """Write one snapshot per date in `latest` (the batch's newest value per key); returns the keys written.

    The ByDate index is eventually consistent, so the batch's own values are laid over what it
    returns: the snapshot never lags behind the change that triggered it.
    """
    written = []
    for date in sorted({date for _, date in latest}):
        counters = aggregates.query_date(date)
        for (counter, key_date), value in latest.items():
            if key_date != date:
                continue
            if value is None:
                counters.pop(counter, None)
            else:
                counters[counter] = value
        key = snapshot_key(date, key_prefix)
        objects.put(key, snapshot_document(date, counters, now).encode(), "application/json")
        written.append(key)
    return written
