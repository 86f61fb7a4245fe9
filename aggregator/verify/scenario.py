"""A fleet, its upload history, and a hostile delivery schedule, drawn from any source of choices."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Protocol


class Choices(Protocol):
    def integer(self, low: int, high: int) -> int: ...

    def chance(self, probability: float) -> bool: ...


class RandomChoices:
    """Choices from a seeded Random (the `verify` command)."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def integer(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability


@dataclass(frozen=True)
class Upload:
    instance: str
    date: str
    sampled_at: int
    body: bytes
    counters: dict[str, int] | None  # None: the file is malformed (nothing of it may apply)


@dataclass
class Scenario:
    uploads: list[Upload]  # in the order they were written to S3
    deliveries: list[int]  # indexes into uploads, in delivery order, duplicates included
    thresholds: dict[str, int]
    dynamodb_fault_rate: float  # share of DynamoDB calls that fail after botocore's retries
    crash_rate: float  # chance an ingest attempt dies part-way through a file
    function_fault_rate: float  # chance a stream record makes an attempt of its function fail
    notes: list[str] = field(default_factory=list)


def draw_scenario(choose: Choices) -> Scenario:
    instances = [f"i-{n:04x}" for n in range(choose.integer(1, 4))]
    dates = ["2026-11-21", "2026-11-22"][: choose.integer(1, 2)]
    counters = [f"C{n}" for n in range(choose.integer(1, 3))]
    uploads: list[Upload] = []
    clock = 1_795_000_000_000
    for _ in range(choose.integer(1, 12)):
        clock += choose.integer(0, 2) * 500  # several uploads may share a millisecond
        instance = instances[choose.integer(0, len(instances) - 1)]
        date = dates[choose.integer(0, len(dates) - 1)]
        values = {c: choose.integer(-5, 50) for c in counters if choose.chance(0.8)}
        if choose.chance(0.1):
            body = (" ".join(f"{c} {v}" for c, v in values.items()) + " BROKEN").encode()
            uploads.append(Upload(instance, date, clock, body, None))
        else:
            body = "".join(f"{c} {v}\n" for c, v in values.items()).encode()
            uploads.append(Upload(instance, date, clock, body, values))
    deliveries = list(range(len(uploads)))
    # Reorder: swap random pairs, so older uploads may arrive after newer ones.
    for _ in range(choose.integer(0, len(deliveries))):
        a, b = choose.integer(0, len(deliveries) - 1), choose.integer(0, len(deliveries) - 1)
        deliveries[a], deliveries[b] = deliveries[b], deliveries[a]
    # Duplicate: S3 and SNS deliver at least once.
    for _ in range(choose.integer(0, 3)):
        deliveries.insert(choose.integer(0, len(deliveries)), deliveries[choose.integer(0, len(deliveries) - 1)])
    thresholds = {c: choose.integer(0, 80) for c in counters if choose.chance(0.7)}
    return Scenario(
        uploads=uploads,
        deliveries=deliveries,
        thresholds=thresholds,
        dynamodb_fault_rate=[0.0, 0.05, 0.15][choose.integer(0, 2)],
        crash_rate=[0.0, 0.2][choose.integer(0, 1)],
        function_fault_rate=[0.0, 0.1, 0.3][choose.integer(0, 2)],
    )


def ground_truth(scenario: Scenario) -> dict[tuple[str, str], int]:
    """Sum over instances of the value in each instance's latest valid upload holding the counter."""
    latest: dict[tuple[str, str, str], tuple[int, int, int]] = {}
    for position, upload in enumerate(scenario.uploads):
        if upload.counters is None:
            continue
        for counter, value in upload.counters.items():
            key = (upload.instance, upload.date, counter)
            # Later sample wins; within a millisecond, the later write to S3 (its sequencer) wins.
            rank = (upload.sampled_at, position, value)
            if key not in latest or rank[:2] > latest[key][:2]:
                latest[key] = rank
    sums: dict[tuple[str, str], int] = {}
    for (_, date, counter), (_, _, value) in latest.items():
        sums[(counter, date)] = sums.get((counter, date), 0) + value
    return sums
