import subprocess

from tests.e2e.conftest import COUNTERS


def test_demo_runs_the_fleet_and_shows_aggregates_and_alerts():
    result = subprocess.run(
        [COUNTERS, "demo", "--instances", "3", "--counters", "5", "--rounds", "3"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 of 5 aggregates equal the sum of the latest uploads" in result.stdout
    assert "ALARM rtb.bid_errors" in result.stdout and "OK    rtb.bid_errors" in result.stdout
