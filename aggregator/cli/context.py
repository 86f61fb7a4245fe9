"""Where a CLI command acts: endpoint, region, stack, and the adapters built from its outputs."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlparse

from botocore.exceptions import ClientError

from aggregator.adapters.clients import AwsClients
from aggregator.adapters.dynamodb import (
    AggregatesTable,
    AlertStatesTable,
    InstanceValuesTable,
    QuarantineTable,
    ThresholdCache,
    ThresholdsTable,
)
from aggregator.adapters.s3 import S3Objects
from aggregator.adapters.sns import AlertsTopic
from aggregator.adapters.sqs import Queue
from aggregator.adapters.streams import StreamReader
from aggregator.usecases.alert import Alerter
from aggregator.usecases.ingest import Ingestor

DEFAULT_REGION = "us-east-1"
DEFAULT_STACK = "counters"


class CliError(Exception):
    """A one-line, user-facing error."""


def is_loopback(endpoint_url: str | None) -> bool:
    if not endpoint_url:
        return False
    host = urlparse(endpoint_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Target:
    endpoint_url: str | None
    region: str
    stack_name: str
    profile: str | None = None

    @classmethod
    def from_args(cls, args) -> Target:
        endpoint = getattr(args, "endpoint_url", None) or os.environ.get("AWS_ENDPOINT_URL") or None
        region = (
            getattr(args, "region", None)
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
            or DEFAULT_REGION
        )
        if is_loopback(endpoint):
            # The local emulator accepts any credentials; do not make users configure fake ones.
            os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
            os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
        return cls(endpoint, region, getattr(args, "stack_name", None) or DEFAULT_STACK, getattr(args, "profile", None))

    @cached_property
    def clients(self) -> AwsClients:
        return AwsClients(self.endpoint_url, self.region, self.profile)

    @cached_property
    def outputs(self) -> dict[str, str]:
        try:
            stacks = self.clients("cloudformation").describe_stacks(StackName=self.stack_name)["Stacks"]
        except ClientError as exc:
            if "does not exist" in str(exc):
                where = self.endpoint_url or f"AWS region {self.region}"
                raise CliError(
                    f"stack '{self.stack_name}' not found at {where}: start it with `bin/counters up` "
                    f"or pass --stack-name/--endpoint-url"
                ) from exc
            raise
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
        if not outputs and stacks[0]["StackStatus"].endswith("_COMPLETE") and is_loopback(self.endpoint_url):
            outputs = self._outputs_from_template()
        if not outputs:
            raise CliError(f"stack '{self.stack_name}' has no outputs yet (status {stacks[0]['StackStatus']})")
        return outputs

    def _outputs_from_template(self) -> dict[str, str]:
        """moto publishes no Outputs after a change set: compute them from the deployed template."""
        from aggregator.deploy.template import load_template_text
        from aggregator.local.emulation import stack_resolver, template_outputs

        body = self.clients("cloudformation").get_template(StackName=self.stack_name)["TemplateBody"]
        template = body if isinstance(body, dict) else load_template_text(body)
        return template_outputs(template, stack_resolver(self.clients, self.stack_name, template))

    def output(self, name: str) -> str:
        try:
            return self.outputs[name]
        except KeyError as exc:
            raise CliError(f"stack '{self.stack_name}' has no output {name}; is it an aggregator stack?") from exc

    @property
    def key_prefix(self) -> str:
        return self.outputs.get("KeyPrefix", "")

    def objects(self) -> S3Objects:
        return S3Objects(self.clients("s3"), self.output("BucketName"))

    def aggregates(self) -> AggregatesTable:
        return AggregatesTable(self.clients("dynamodb"), self.output("AggregatesTableName"))

    def instance_values(self) -> InstanceValuesTable:
        return InstanceValuesTable(self.clients("dynamodb"), self.output("InstanceValuesTableName"))

    def thresholds(self) -> ThresholdsTable:
        return ThresholdsTable(self.clients("dynamodb"), self.output("ThresholdsTableName"))

    def alert_states(self) -> AlertStatesTable:
        return AlertStatesTable(self.clients("dynamodb"), self.output("AlertStatesTableName"))

    def quarantine(self) -> QuarantineTable:
        return QuarantineTable(self.clients("dynamodb"), self.output("QuarantineTableName"))

    def ingestor(self) -> Ingestor:
        return Ingestor(self.objects(), self.instance_values(), self.quarantine(), key_prefix=self.key_prefix)

    def alerter(self) -> Alerter:
        """The alert function's decision and publishing, run from the operator's side (no cache)."""
        return Alerter(
            ThresholdCache(self.thresholds(), 0),
            self.alert_states(),
            AlertsTopic(self.clients("sns"), self.output("AlertsTopicArn")),
        )

    def queue(self, output: str) -> Queue:
        return Queue(self.clients("sqs"), self.output(output))

    def stream_reader(self) -> StreamReader:
        return StreamReader(self.clients("dynamodbstreams"))
