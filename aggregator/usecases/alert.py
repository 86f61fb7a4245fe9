"""Alert: Aggregates changes → one SNS message per threshold transition, even across retries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aggregator.adapters.dynamodb import AlertState, AlertStatesTable, ThresholdCache
from aggregator.adapters.sns import AlertsTopic
from aggregator.domain.aggregation import CounterKey
from aggregator.domain.alerts import Alert, transition


class TransitionRaced(RuntimeError):
    """The stored alert state moved between reading it and claiming a transition."""


@dataclass(frozen=True)
class AggregateChange:
    key: CounterKey
    sequence_number: str
    value: int | None  # None: the aggregate was removed
    previous_value: int | None


class Alerter:
    """Decides and publishes transitions; the AlertStates table makes each one happen once.

    For each transition the new state is first claimed (conditional write holding the message
    as pending), then published, then marked sent. A retry finds a pending message and sends
    it before anything else, and finds the claimed state so it never decides the same
    transition twice. Only a crash between publish and mark could repeat a message; the
    message's transitionId lets a subscriber drop that duplicate.
    """

    def __init__(
        self,
        thresholds: ThresholdCache,
        states: AlertStatesTable,
        topic: AlertsTopic,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ):
        self.thresholds = thresholds
        self.states = states
        self.topic = topic
        self.clock = clock

    def load_states(self, changes: Sequence[AggregateChange]) -> dict[CounterKey, AlertState]:
        """One batched read of the states a batch touches."""
        return self.states.get_many({change.key for change in changes})

    def process(self, change: AggregateChange, known: dict[CounterKey, AlertState]) -> Alert | None:
        """Handle one change in stream order; `known` is updated in place. Returns the alert sent, if any."""
        state = known.get(change.key, AlertState())
        if state.pending_body is not None:
            self.topic.publish(state.pending_body, state.pending_subject or "", state.pending_attributes or {})
            self.states.mark_published(change.key, state.transition_id or "")
            state = AlertState(state=state.state)
            known[change.key] = state
        threshold = self.thresholds.get(change.key[0])
        new_state = transition(state.state, change.value, threshold)
        if new_state is None:
            return None
        alert = Alert(
            counter=change.key[0],
            date=change.key[1],
            value=change.value,
            previous_value=change.previous_value,
            threshold=threshold,
            state=new_state,
            at=self.clock(),
            transition_id=f"{change.key[0]}/{change.key[1]}/{new_state}/{change.sequence_number}",
        )
        claimed = self.states.claim(
            change.key,
            expected=state.state,
            new_state=new_state,
            transition_id=alert.transition_id,
            body=alert.body(),
            subject=alert.subject(),
            attributes=alert.attributes(),
            value=change.value,
            threshold=threshold,
            at=alert.at.isoformat(timespec="milliseconds"),
        )
        if not claimed:
            # The stored state moved under us (a concurrent or earlier attempt): re-read next time.
            known.pop(change.key, None)
            raise TransitionRaced(f"alert state of {change.key[0]} {change.key[1]} changed concurrently; retrying")
        self.topic.publish(alert.body(), alert.subject(), alert.attributes())
        self.states.mark_published(change.key, alert.transition_id)
        known[change.key] = AlertState(state=new_state)
        return alert


def reconcile_date(date: str, values: dict[str, int], alerter: Alerter, marker: str) -> list[Alert]:
    """Announce whatever transition the current sums of one date call for (ops repair after a
    stream failure): each counter is compared with its last announced state, as a change would
    be. `marker` stands in for the stream sequence number in the transitionId, so it must be
    new for every repair."""
    changes = [AggregateChange((counter, date), marker, value, None) for counter, value in sorted(values.items())]
    known = alerter.load_states(changes)
    alerts = []
    for change in changes:
        for attempt in range(3):
            try:
                alert = alerter.process(change, known)
                break
            except TransitionRaced:
                # The live alert function announced this counter meanwhile: look again.
                if attempt == 2:
                    raise
                known.update(alerter.load_states([change]))
        if alert is not None:
            alerts.append(alert)
    return alerts
