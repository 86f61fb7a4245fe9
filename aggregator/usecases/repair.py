"""Operator repairs after a stream trigger gave up on a batch: rebuild from the current state,
never from the batch's (by then stale) images."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from aggregator.adapters.dynamodb import AggregatesTable, InstanceValuesTable
from aggregator.adapters.sqs import Queue
from aggregator.adapters.streams import StreamReader
from aggregator.domain.alerts import Alert
from aggregator.usecases.aggregate import recompute_date
from aggregator.usecases.alert import Alerter, reconcile_date


@dataclass
class DateRepair:
    date: str
    corrected: int
    alerts: list[Alert]


def repair_date(
    date: str,
    instance_values: InstanceValuesTable,
    aggregates: AggregatesTable,
    alerter: Alerter,
    marker: str,
) -> DateRepair:
    """Recompute a date's sums from InstanceValues, then announce the transitions they call for.

    Replaying the failed records themselves would act on old values after newer ones (an ALARM
    for a sum that has since recovered); the current state has no such order to get wrong.
    """
    totals, corrected = recompute_date(date, instance_values, aggregates)
    return DateRepair(date, corrected, reconcile_date(date, totals, alerter, marker))


@dataclass
class StreamFailureRepair:
    messages: int = 0
    repaired: list[DateRepair] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # batch descriptions whose records are gone


def repair_stream_failures(
    failures: Queue, streams: StreamReader, repair: Callable[[str], DateRepair]
) -> StreamFailureRepair:
    """Repair every date a failed stream batch touched; a message is deleted once its dates are
    repaired. Batches whose records the stream no longer holds stay queued and are reported:
    the operator repairs them by date (`replay --date`)."""
    result = StreamFailureRepair()
    done: set[str] = set()
    for message in failures.drain():
        try:
            info = message.json().get("DDBStreamBatchInfo")
        except (ValueError, AttributeError):
            info = None
        if not info:
            result.unreadable.append(f"not a stream batch description: {message.body[:200]}")
            continue
        keys = streams.keys_in_range(
            info["streamArn"], info["shardId"], info["startSequenceNumber"], info["endSequenceNumber"]
        )
        if keys is None:
            result.unreadable.append(
                f"{info['streamArn']} {info['shardId']} {info['startSequenceNumber']}..{info['endSequenceNumber']} "
                f"(first record {info.get('approximateArrivalOfFirstRecord', '?')}): no longer in the stream"
            )
            continue
        for date in sorted({date for _, date in keys} - done):
            result.repaired.append(repair(date))
            done.add(date)
        failures.delete(message)
        result.messages += 1
    return result
