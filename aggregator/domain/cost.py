"""DynamoDB's published sizing and billing rules, as a pure model.

Item size: attribute names and string values count their UTF-8 bytes; a number counts one byte
per two significant digits plus one; a map or list costs 3 bytes plus, per element, its name,
its value and 1 byte. A write unit covers 1 KB: PutItem/UpdateItem/DeleteItem are billed on the
larger of the item before and after, a failed conditional write on the item as it stands, and
every write at least 1 unit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

KB = 1024
ITEM_SIZE_LIMIT = 400 * KB
ITEM_WRITE_UNITS_PER_SECOND_LIMIT = 1000
MINUTES_PER_DAY = 1440
# On-demand write request units, US East (N. Virginia), after the price reduction of
# 1 November 2024: USD 0.625 per million. Check the DynamoDB pricing page for your region.
WRITE_REQUEST_UNIT_PRICE_USD = 0.625 / 1_000_000
PRICE_SOURCE = "USD 0.625 per million on-demand write request units, us-east-1, as published November 2024"


def number_size(text: str) -> int:
    digits = text.lstrip("+-").replace(".", "").strip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def value_size(value: Mapping[str, Any]) -> int:
    """Size of one attribute value in DynamoDB JSON ({"S": ...}, {"N": ...}, {"M": {...}}, ...)."""
    ((kind, data),) = value.items()
    if kind == "S":
        return len(data.encode())
    if kind == "N":
        return number_size(data)
    if kind == "B":
        return len(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(name.encode()) + value_size(element) + 1 for name, element in data.items())
    if kind == "L":
        return 3 + sum(value_size(element) + 1 for element in data)
    if kind in ("SS", "NS", "BS"):
        return sum(number_size(e) if kind == "NS" else len(e.encode() if isinstance(e, str) else e) for e in data)
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: Mapping[str, Mapping[str, Any]] | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(size_before: int, size_after: int) -> int:
    """Units for one write billed on the larger of the item before and after (at least one)."""
    return max(1, math.ceil(max(size_before, size_after) / KB))


def daily_cost_usd(write_units_per_day: float) -> float:
    return write_units_per_day * WRITE_REQUEST_UNIT_PRICE_USD
