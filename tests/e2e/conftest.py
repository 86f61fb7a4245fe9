"""End-to-end: `bin/counters up` in a subprocess, driven through bin/counters and plain boto3."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
COUNTERS = str(ROOT / "bin" / "counters")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


class Stack:
    def __init__(self, endpoint_url: str):
        self.endpoint_url = endpoint_url
        self.env = {**os.environ, "AWS_ENDPOINT_URL": endpoint_url}
        cfn = self.client("cloudformation")
        self.outputs = {
            o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName="counters")["Stacks"][0]["Outputs"]
        }

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint_url, region_name="us-east-1")

    def counters(self, *args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
        """Run bin/counters as a user would; by default the command must succeed."""
        result = subprocess.run(
            [COUNTERS, *args], capture_output=True, text=True, env=env or self.env, timeout=120, check=False
        )
        if check and result.returncode != 0:
            raise AssertionError(f"bin/counters {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    def query(self, date: str) -> dict[str, int]:
        rows = json.loads(self.counters("query", "--date", date, "--format", "json").stdout)
        return {row["counter"]: row["value"] for row in rows}

    def put(self, key: str, body: str, **kwargs) -> None:
        """An upload by any S3 client (not our command)."""
        self.client("s3").put_object(Bucket=self.outputs["BucketName"], Key=key, Body=body.encode(), **kwargs)


def eventually(check: Callable[[], Any], timeout: float = 60, interval: float = 0.5) -> Any:
    """Poll until check() returns a truthy value (returned) or raise with the last value seen."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last value: {last!r}")


@pytest.fixture(scope="session")
def stack():
    process = subprocess.Popen(
        [COUNTERS, "up", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=sys.stderr,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"},
    )
    endpoint = None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        if line.startswith("ready "):
            endpoint = line.split()[1]
            break
    if endpoint is None:
        process.kill()
        raise RuntimeError("bin/counters up did not print its ready line")
    try:
        yield Stack(endpoint)
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=30)
        assert code == 0, f"bin/counters up exited {code} on SIGINT"
