import subprocess

from tests.e2e.conftest import COUNTERS


def test_soak_ends_with_aggregates_equal_to_the_truth(stack):
    _soak_and_check(stack)


def test_a_second_soak_on_the_same_date_is_not_misled_by_the_first(stack):
    """Same fleet, same date, same stack: the first run's sums and markers must not count."""
    _soak_and_check(stack, date="2026-03-02")
    _soak_and_check(stack, date="2026-03-02")


def _soak_and_check(stack, date="2026-03-01"):
    result = stack.counters(
        "soak",
        "--instances",
        "5",
        "--counters",
        "5",
        "--minutes",
        "2",
        "--minute-seconds",
        "2",
        "--sample-seconds",
        "0.5",
        "--date",
        date,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "uploads processed: 10 of 10" in result.stdout
    assert "freshness upload -> aggregate: p50" in result.stdout
    assert "aggregates equal the truth: all 5 counters" in result.stdout


def test_verify_reports_schedules_and_a_reproducible_seed():
    result = subprocess.run(
        [COUNTERS, "verify", "--schedules", "3", "--seed", "40", "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ran 3 schedules (seeds 40..42)" in result.stdout and ": 0 failed" in result.stdout
