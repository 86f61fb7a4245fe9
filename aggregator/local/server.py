"""The whole system on one machine: moto server + the production template + the local runner."""

from __future__ import annotations

import logging
import os
import socket
import time
import warnings
from typing import Any

from aggregator.adapters.clients import AwsClients
from aggregator.deploy.template import load_template
from aggregator.deploy.workflow import deploy
from aggregator.local.emulation import stack_resolver
from aggregator.local.moto_shims import apply_moto_shims
from aggregator.local.runner import LocalRunner

LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
# Quiet, time-compressed settings for the functions when they run inside the local runner.
LOCAL_FUNCTION_ENV = {
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_LOGGER_LOG_EVENT": "false",
}


def silence_local_noise() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=".*not supported by moto's CloudFormation.*")
    warnings.filterwarnings("ignore", module="moto.*")
    logging.getLogger("moto").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="No application metrics to publish")


def serve_functions(clients: AwsClients, stack_name: str, region: str) -> LocalRunner:
    """Play Lambda for a stack deployed on an emulator: run its functions in this process."""
    template = load_template()
    runner = LocalRunner(clients, template, stack_resolver(clients, stack_name, template), region)
    os.environ.update(LOCAL_FUNCTION_ENV, AWS_REGION=region, AWS_DEFAULT_REGION=region)
    os.environ.update(runner.function_environment())
    runner.build()
    runner.start()
    return runner


class LocalStack:
    """Starts moto on a loopback port, deploys the template into it, and runs the functions."""

    def __init__(
        self,
        port: int = 0,
        stack_name: str = "counters",
        region: str = "us-east-1",
        threshold_cache_seconds: int = 1,
        stream_max_retries: int = 3,
    ):
        self.port = port
        self.stack_name = stack_name
        self.region = region
        self.parameters = {
            "Emulated": "true",
            "ThresholdCacheSeconds": str(threshold_cache_seconds),
            "StreamMaximumRetryAttempts": str(stream_max_retries),
        }
        self.server: Any = None
        self.runner: LocalRunner | None = None
        self.endpoint_url = ""
        self.outputs: dict[str, str] = {}

    def start(self) -> LocalStack:
        silence_local_noise()
        from moto.server import ThreadedMotoServer  # imported here: only the local stack needs moto

        if self.port:
            # moto binds inside its thread and would wait forever on a busy port: fail here instead.
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", self.port))
        for name, value in LOCAL_CREDENTIALS.items():
            os.environ.setdefault(name, value)
        apply_moto_shims()
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        os.environ["AWS_ENDPOINT_URL"] = self.endpoint_url
        os.environ["AWS_DEFAULT_REGION"] = self.region
        os.environ["AWS_REGION"] = self.region
        clients = AwsClients(self.endpoint_url, self.region)
        self.outputs = deploy(clients, self.stack_name, self.region, self.parameters, poll_seconds=0.2).outputs
        self.runner = serve_functions(clients, self.stack_name, self.region)
        return self

    def wait_until_idle(self, timeout: float = 120) -> bool:
        """Block until the pipeline has drained everything sent before this call (False on timeout)."""
        since = time.monotonic()
        deadline = since + timeout
        while time.monotonic() < deadline:
            if self.runner is not None and self.runner.is_idle(since):
                return True
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        if self.runner is not None:
            self.runner.stop()
        if self.server is not None:
            self.server.stop()
