"""Property: whatever the cloud does to the events, every aggregate ends equal to the truth, each
transition is announced once, and nothing is left unaccounted (see aggregator/verify)."""

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings

from aggregator.verify.run import run_scenario
from aggregator.verify.scenario import draw_scenario


class HypothesisChoices:
    def __init__(self, data):
        self.data = data

    def integer(self, low: int, high: int) -> int:
        return self.data.draw(st.integers(low, high))

    def chance(self, probability: float) -> bool:
        return self.data.draw(st.integers(0, 999)) < probability * 1000


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data(), st.integers(0, 2**31 - 1))
def test_no_count_is_lost_or_doubled_under_faults(data, fault_seed):
    scenario = draw_scenario(HypothesisChoices(data))
    outcome = run_scenario(scenario, fault_seed)
    assert outcome.problems == [], outcome.problems


def test_the_seeded_schedules_exercise_every_fault_and_repair():
    """The `verify` command's schedules, seeds 0..59: all hold, and between them every fault and
    every repair path happened (so a harness that stopped injecting would fail here)."""
    from aggregator.verify.scenario import RandomChoices

    outcomes = [run_scenario(draw_scenario(RandomChoices(seed)), seed) for seed in range(60)]
    assert [o.problems for o in outcomes if o.problems] == []
    for kind in ("injected_errors", "crashes", "dead_lettered", "stream_failures", "quarantined", "alerts"):
        assert sum(getattr(o, kind) for o in outcomes) > 0, kind
