"""SNS: publishing alert transitions."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from aggregator.domain.errors import StoreUnavailable


class AlertsTopic:
    def __init__(self, client: Any, topic_arn: str):
        self.client = client
        self.topic_arn = topic_arn

    def publish(self, body: str, subject: str, attributes: dict[str, str]) -> str:
        """Publish one alert; attributes become String message attributes for subscription filters."""
        try:
            response = self.client.publish(
                TopicArn=self.topic_arn,
                Message=body,
                Subject=subject,
                MessageAttributes={
                    name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
                },
            )
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailable(f"publishing to {self.topic_arn}: {exc}") from exc
        return response["MessageId"]
