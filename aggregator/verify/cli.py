"""`counters verify`: run N randomised fault schedules; every failing seed is printed, reproducible."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

from aggregator.verify.run import Outcome, run_scenario
from aggregator.verify.scenario import RandomChoices, draw_scenario

TOTALLED = ("applied_uploads", "quarantined", "injected_errors", "crashes", "dead_lettered", "stream_failures")


def run_seed(seed: int) -> tuple[int, Outcome]:
    return seed, run_scenario(draw_scenario(RandomChoices(seed)), seed)


def _outcomes(seeds: range, workers: int) -> Iterator[tuple[int, Outcome]]:
    if workers <= 1:
        yield from map(run_seed, seeds)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(run_seed, seeds, chunksize=20)


def verify(schedules: int, seed: int, workers: int = 1, show_every: int = 100) -> int:
    failed: list[int] = []
    totals = dict.fromkeys((*TOTALLED, "alerts", "repeated_alerts"), 0)
    started = time.monotonic()
    for number, (schedule_seed, outcome) in enumerate(_outcomes(range(seed, seed + schedules), workers), 1):
        for name in totals:
            totals[name] += getattr(outcome, name)
        if outcome.problems:
            failed.append(schedule_seed)
            print(f"FAILED seed {schedule_seed}: " + "; ".join(outcome.problems[:5]), flush=True)
            print(f"  reproduce: bin/counters verify --schedules 1 --seed {schedule_seed}", flush=True)
        if show_every and number % show_every == 0:
            print(f"… {number}/{schedules} schedules, {len(failed)} failed", file=sys.stderr, flush=True)
    elapsed = time.monotonic() - started
    print(f"ran {schedules} schedules (seeds {seed}..{seed + schedules - 1}) in {elapsed:.0f} s: {len(failed)} failed")
    print(
        "exercised: "
        + ", ".join(f"{totals[name]} {name.replace('_', ' ')}" for name in TOTALLED)
        + f" (then redriven or replayed), {totals['alerts']} alert messages, of which "
        f"{totals['repeated_alerts']} repeated a transition already published (same transitionId)"
    )
    return 1 if failed else 0
