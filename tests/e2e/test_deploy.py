"""bin/counters deploy / serve / destroy against a fresh, bare moto server (not `up`)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import boto3
import pytest

from tests.e2e.conftest import COUNTERS, eventually

STACK = "fleet"


@pytest.fixture(scope="module")
def moto_server():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


def run(url: str, *args: str, check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "AWS_ENDPOINT_URL": url}
    result = subprocess.run(
        [COUNTERS, *args, "--stack-name", STACK],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
        input=stdin,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"{args} failed:\n{result.stdout}\n{result.stderr}")
    return result


def functions(url: str) -> dict[str, dict]:
    client = boto3.client("lambda", endpoint_url=url, region_name="us-east-1")
    return {f["FunctionName"].split("-")[1]: f for f in client.list_functions()["Functions"]}


def test_deploy_upload_see_the_aggregate_redeploy_and_destroy(moto_server, tmp_path):
    first = run(moto_server, "deploy")
    assert "package   aggregator/code-" in first.stdout and "(uploaded)" in first.stdout
    assert "stack created" in first.stdout and "BucketName" in first.stdout

    serve = subprocess.Popen(
        [COUNTERS, "serve", "--stack-name", STACK],
        env={**os.environ, "AWS_ENDPOINT_URL": moto_server},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert serve.stdout.readline().startswith("serving")
        counters = tmp_path / "counters.txt"
        counters.write_text("COUNTER1 12345\n")
        run(moto_server, "upload", str(counters), "--instance", "i-0abc", "--date", "2026-02-01")
        counters.write_text("COUNTER1 54321\n")
        run(moto_server, "upload", str(counters), "--instance", "i-0def", "--date", "2026-02-01")

        def aggregate():
            rows = json.loads(run(moto_server, "query", "--date", "2026-02-01", "--format", "json").stdout)
            return rows == [{"counter": "COUNTER1", "date": "2026-02-01", "value": 66666}]

        eventually(aggregate)
    finally:
        serve.terminate()
        serve.wait(timeout=30)

    before = functions(moto_server)
    again = run(moto_server, "deploy")
    assert "(already there)" in again.stdout  # same code, same zip, same key
    assert "no changes" in again.stdout and "no change set executed" in again.stdout

    dry = run(moto_server, "deploy", "--parameter", "ThresholdCacheSeconds=9", "--dry-run")
    assert "not executed: --dry-run" in dry.stdout
    assert functions(moto_server)["AlertFunction"]["Environment"]["Variables"]["THRESHOLD_CACHE_SECONDS"] != "9"

    changed = run(moto_server, "deploy", "--parameter", "ThresholdCacheSeconds=9")
    assert "stack updated" in changed.stdout
    after = functions(moto_server)
    assert str(after["AlertFunction"]["Environment"]["Variables"]["THRESHOLD_CACHE_SECONDS"]) == "9"
    for name in ("IngestFunction", "AggregateFunction", "SnapshotFunction"):
        assert after[name] == before[name], f"{name} changed although only the alert function's parameter did"

    refused = run(moto_server, "destroy", check=False)
    assert refused.returncode == 2 and "--yes" in refused.stderr
    gone = run(moto_server, "destroy", "--yes")
    assert "CountersBucket" in gone.stdout and "InstanceValuesTable" in gone.stdout
    missing = run(moto_server, "query", "--date", "2026-02-01", check=False)
    assert "stack 'fleet' not found" in missing.stderr


def test_deploy_rejects_an_unknown_parameter(moto_server):
    result = run(moto_server, "deploy", "--parameter", "NoSuchThing=1", check=False)
    assert result.returncode == 2
    assert "the template has no parameter NoSuchThing" in result.stderr
