"""Aggregate: a batch of InstanceValues changes → the Aggregates rows whose sum changed."""

from __future__ import annotations

from collections.abc import Iterable

from aggregator.adapters.dynamodb import AggregatesTable, InstanceValuesTable
from aggregator.domain.aggregation import ItemChange, changed_totals, latest_per_key, total


def aggregate_changes(changes: Iterable[ItemChange], aggregates: AggregatesTable) -> int:
    """Write the new sums of the changed items, only where they differ from what is stored.

    Reading the stored sums (rather than trusting the stream's old image) makes a retried or
    replayed batch a no-op and heals an aggregate a failed batch left behind. Returns the
    number of rows written.
    """
    wanted = {key: total(change.instance_values) for key, change in latest_per_key(changes).items()}
    if not wanted:
        return 0
    to_write = changed_totals(wanted, aggregates.get_values(wanted))
    aggregates.write_values(to_write)
    return len(to_write)


def recompute_date(
    date: str, instance_values: InstanceValuesTable, aggregates: AggregatesTable
) -> tuple[dict[str, int], int]:
    """Rebuild every aggregate of one date from InstanceValues (ops repair).

    Returns the date's sums {counter: value} and how many rows had to be corrected.
    """
    wanted = {(counter, date): sum(values.values()) for counter, values in instance_values.items_for_date(date)}
    stored = {(counter, date): value for counter, value in aggregates.query_date(date).items()}
    to_write = changed_totals(wanted, stored)
    to_write.update({key: None for key in stored if key not in wanted})
    aggregates.write_values(to_write)
    return {counter: value for (counter, _), value in wanted.items()}, len(to_write)
