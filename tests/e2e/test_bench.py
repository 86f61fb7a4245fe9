"""The benchmark is not a test; this only checks that `bench --quick` runs and its output is well formed."""

import json
import subprocess

from tests.e2e.conftest import COUNTERS


def test_bench_quick_prints_well_formed_json_and_a_chart(tmp_path):
    chart = tmp_path / "cost.png"
    result = subprocess.run(
        [COUNTERS, "bench", "--quick", "--format", "json", "--chart", str(chart)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    designs = {(m["design"], m["instances"]) for m in report["measured"]}
    assert designs == {("ours", 10), ("naive", 10), ("ours", 100), ("naive", 100)}
    for row in report["measured"]:
        assert row["ingest_wcu_per_value"] >= 1 and row["ingest_requests_per_file"] > 0
    assert [m["instances"] for m in report["model"]] == [10, 10, 100, 100, 1000, 1000, 10000, 10000, 100000, 100000]
    latency = report["latency"]
    assert latency["aggregates_observed"] == latency["uploads"] == latency["alerts_observed"]
    assert 0 < latency["aggregate_p50_s"] <= latency["aggregate_p99_s"]
    assert report["parser"]["ratio"] > 0 and "USD" in report["price"]
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bench_quick_table_names_every_section(tmp_path):
    result = subprocess.run(
        [COUNTERS, "bench", "--quick", "--chart", str(tmp_path / "c.png")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for heading in (
        "measured on moto",
        "model: 100 counters",
        "local freshness",
        "local stack: offered",
        "parser:",
        "chart:",
    ):
        assert heading in result.stdout
