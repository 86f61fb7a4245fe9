"""Summing per-instance values into aggregates, from a batch of stream changes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

CounterKey = tuple[str, str]  # (counter, date)


@dataclass(frozen=True)
class ItemChange:
    """One stream record of the InstanceValues table, reduced to what summing needs."""

    key: CounterKey
    sequence_number: str
    instance_values: Mapping[str, int] | None  # None: the item was removed


def latest_per_key(changes: Iterable[ItemChange]) -> dict[CounterKey, ItemChange]:
    """Keep only the newest change of each item (stream order is per-key order).

    Sequence numbers are compared as integers, so duplicates and replays of older records
    cannot win over a newer image.
    """
    latest: dict[CounterKey, ItemChange] = {}
    for change in changes:
        held = latest.get(change.key)
        if held is None or int(change.sequence_number) >= int(held.sequence_number):
            latest[change.key] = change
    return latest


def total(instance_values: Mapping[str, int] | None) -> int | None:
    """The aggregate Value of an item: the sum over instances, None when the item is gone."""
    if instance_values is None:
        return None
    return sum(instance_values.values())


def changed_totals(
    wanted: Mapping[CounterKey, int | None], stored: Mapping[CounterKey, int | None]
) -> dict[CounterKey, int | None]:
    """The aggregates to write: only where the wanted total differs from what is stored."""
    return {key: value for key, value in wanted.items() if stored.get(key) != value}
