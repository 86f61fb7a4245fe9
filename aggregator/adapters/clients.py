"""boto3 clients, built lazily and once, with botocore's retry modes for throttling."""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

# Adaptive mode adds client-side rate limiting on throttling errors (DynamoDB under burst);
# standard mode (exponential backoff with jitter) is enough elsewhere.
RETRIES = {
    "dynamodb": {"mode": "adaptive", "max_attempts": 10},
}
DEFAULT_RETRIES = {"mode": "standard", "max_attempts": 6}


class AwsClients:
    """A lazily-built, cached set of clients for one endpoint, region and profile."""

    def __init__(self, endpoint_url: str | None = None, region: str | None = None, profile: str | None = None):
        self.endpoint_url = endpoint_url
        self.region = region
        self.profile = profile
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._session: boto3.Session | None = None

    def __call__(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                if self._session is None:
                    self._session = boto3.Session(profile_name=self.profile, region_name=self.region)
                config = Config(
                    retries=RETRIES.get(service, DEFAULT_RETRIES),
                    connect_timeout=5,
                    read_timeout=30,
                    max_pool_connections=20,
                )
                self._clients[service] = self._session.client(service, endpoint_url=self.endpoint_url, config=config)
            return self._clients[service]


@lru_cache(maxsize=1)
def default_clients() -> AwsClients:
    """The clients a Lambda function uses: region and endpoint from the environment."""
    return AwsClients()
