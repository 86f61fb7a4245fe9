import subprocess

from tests.e2e.conftest import COUNTERS


def test_soak_ends_with_aggregates_equal_to_the_truth(stack):
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
        "2026-03-01",
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
