"""Parser throughput on a large counter file, beside a bare bytes.split() pass over the same bytes."""

from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass

from aggregator.domain.counter_file import parse_counter_file


@dataclass
class ParserFigures:
    file_mb: float
    counters: int
    parse_mb_per_s: float
    split_mb_per_s: float
    ratio: float  # parse time / split time

    def as_dict(self) -> dict:
        return asdict(self)


def counter_file(target_bytes: int, seed: int = 3) -> bytes:
    rng = random.Random(seed)
    lines, size, n = [], 0, 0
    while size < target_bytes:
        line = f"rtb.host_{n // 1000:04d}.metric_{n % 1000:03d} {rng.randint(-(2**40), 2**40)}\n".encode()
        lines.append(line)
        size += len(line)
        n += 1
    return b"".join(lines)


def measure_parser(target_bytes: int = 10 * 1024 * 1024, repeats: int = 3) -> ParserFigures:
    data = counter_file(target_bytes)
    parse = min(_timed(lambda: parse_counter_file(data)) for _ in range(repeats))
    split = min(_timed(data.split) for _ in range(repeats))
    megabytes = len(data) / 1_000_000
    return ParserFigures(
        file_mb=round(megabytes, 2),
        counters=len(parse_counter_file(data)),
        parse_mb_per_s=round(megabytes / parse, 1),
        split_mb_per_s=round(megabytes / split, 1),
        ratio=round(parse / split, 1),
    )


def _timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start
