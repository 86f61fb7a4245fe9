"""SQS: the operator's side of the dead-letter and stream-failure queues."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from aggregator.domain.errors import StoreUnavailable


@dataclass(frozen=True)
class QueuedMessage:
    receipt_handle: str
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


class Queue:
    def __init__(self, client: Any, url: str, wait_seconds: int = 1):
        self.client = client
        self.url = url
        self.wait_seconds = wait_seconds

    def drain(self) -> Iterator[QueuedMessage]:
        """Every message currently visible; each stays hidden for a minute unless deleted."""
        while True:
            try:
                messages = self.client.receive_message(
                    QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=self.wait_seconds, VisibilityTimeout=60
                ).get("Messages", [])
            except (ClientError, BotoCoreError) as exc:
                raise StoreUnavailable(f"receiving from {self.url}: {exc}") from exc
            if not messages:
                return
            for message in messages:
                yield QueuedMessage(message["ReceiptHandle"], message["Body"])

    def send(self, body: str) -> None:
        try:
            self.client.send_message(QueueUrl=self.url, MessageBody=body)
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailable(f"sending to {self.url}: {exc}") from exc

    def delete(self, message: QueuedMessage) -> None:
        try:
            self.client.delete_message(QueueUrl=self.url, ReceiptHandle=message.receipt_handle)
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailable(f"deleting from {self.url}: {exc}") from exc

    def move_all_to(self, destination: Queue) -> int:
        """Redrive: send each message to `destination`, then delete it here (at least once)."""
        moved = 0
        for message in self.drain():
            destination.send(message.body)
            self.delete(message)
            moved += 1
        return moved
