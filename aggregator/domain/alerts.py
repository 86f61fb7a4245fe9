"""Threshold transitions: ALARM on crossing up, OK on recovery, nothing otherwise."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

ALARM = "ALARM"
OK = "OK"


def state_for(value: int | None, threshold: int | None) -> str:
    """A counter is in ALARM while its value is strictly above its threshold."""
    if value is None or threshold is None:
        return OK
    return ALARM if value > threshold else OK


def transition(published_state: str | None, value: int | None, threshold: int | None) -> str | None:
    """The state to announce, or None when the last published state still holds.

    Comparing with the last *published* state (not the previous value) means a threshold set
    below a value that is already high still raises one ALARM at the next change, and a
    repeated or retried change never raises a second one.
    """
    wanted = state_for(value, threshold)
    return wanted if wanted != (published_state or OK) else None


@dataclass(frozen=True)
class Alert:
    counter: str
    date: str
    value: int | None
    previous_value: int | None
    threshold: int | None
    state: str
    at: dt.datetime
    transition_id: str

    def body(self) -> str:
        """The JSON message subscribers receive (contract: ARCHITECTURE.md, "Alert message")."""
        return json.dumps(
            {
                "counter": self.counter,
                "date": self.date,
                "value": self.value,
                "previousValue": self.previous_value,
                "threshold": self.threshold,
                "state": self.state,
                "at": self.at.astimezone(dt.UTC).isoformat(timespec="milliseconds"),
                "transitionId": self.transition_id,
            },
            sort_keys=True,
        )

    def subject(self) -> str:
        return f"{self.state}: {self.counter} {self.date} = {self.value} (threshold {self.threshold})"[:100]

    def attributes(self) -> dict[str, str]:
        """SNS message attributes subscribers can filter on."""
        return {"counter": self.counter, "state": self.state, "date": self.date}
