"""Clear one-line errors, never a traceback."""

import socket
import subprocess

import pytest

from tests.e2e.conftest import COUNTERS


def one_line_error(result):
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_bad_date(stack):
    message = one_line_error(stack.counters("query", "--date", "2026-02-30", check=False))
    assert "2026-02-30" in message and "calendar date" in message


def test_missing_file(stack, tmp_path):
    message = one_line_error(stack.counters("upload", str(tmp_path / "nope.txt"), "--instance", "i-1", check=False))
    assert "cannot read" in message and "nope.txt" in message


def test_missing_stack(stack):
    message = one_line_error(stack.counters("query", "--date", "2026-01-01", "--stack-name", "nosuch", check=False))
    assert "stack 'nosuch' not found" in message


@pytest.fixture
def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_endpoint(stack, closed_port):
    env = {**stack.env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{closed_port}", "AWS_MAX_ATTEMPTS": "1"}
    message = one_line_error(stack.counters("query", "--date", "2026-01-01", check=False, env=env))
    assert f"cannot reach http://127.0.0.1:{closed_port}" in message


def test_busy_port_for_up():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([COUNTERS, "up", "--port", str(port)], capture_output=True, text=True, timeout=60)
    message = one_line_error(result)
    assert f"cannot start the local stack on port {port}" in message
