"""Run one scenario against the real handlers on moto (in-process), with faults, then repair as an
operator would, and report every way the result differs from what must hold."""

from __future__ import annotations

import json
import logging
import os
import random
import threading
from dataclasses import dataclass
from typing import Any
from unittest import mock

from botocore.exceptions import ClientError

from aggregator.adapters.clients import AwsClients
from aggregator.adapters.dynamodb import AggregatesTable, InstanceValuesTable
from aggregator.adapters.sqs import Queue
from aggregator.adapters.streams import StreamReader
from aggregator.domain.alerts import ALARM, OK, state_for
from aggregator.local.runner import Function, SqsPoller, StreamPoller
from aggregator.usecases.repair import repair_date, repair_stream_failures
from aggregator.verify.scenario import Scenario, ground_truth

REGION = "us-east-1"
BUCKET = "verify-counters"
TABLES = {
    "InstanceValuesTable": "verify-instance-values",
    "AggregatesTable": "verify-aggregates",
    "ThresholdsTable": "verify-thresholds",
    "AlertStatesTable": "verify-alert-states",
    "QuarantineTable": "verify-quarantine",
}
MAX_RECEIVES = 3
STREAM_SETTINGS = {"BatchSize": 10, "BisectBatchOnFunctionError": True, "MaximumRetryAttempts": 3}
TRANSIENT = ("ProvisionedThroughputExceededException", "InternalServerError", "ThrottlingException")


class SimulatedCrash(BaseException):
    """The function dies part-way (timeout, out of memory): no partial response, the batch fails."""


class Faults:
    """The hostile part of the world: shared by the flaky client and the flaky functions."""

    def __init__(self, scenario: Scenario, seed: int):
        self.rng = random.Random(seed)
        self.scenario = scenario
        self.enabled = True
        self.crash_after: int | None = None  # DynamoDB writes left before the ingest attempt dies
        self.injected_errors = 0
        self.crashes = 0

    def dynamodb_call(self, name: str) -> None:
        if not self.enabled:
            return
        if self.rng.random() < self.scenario.dynamodb_fault_rate:
            code = TRANSIENT[self.rng.randrange(len(TRANSIENT))]
            self.injected_errors += 1
            raise ClientError({"Error": {"Code": code, "Message": "injected after botocore's retries"}}, name)
        if self.crash_after is not None and name == "update_item":
            if self.crash_after == 0:
                self.crash_after = None
                self.crashes += 1
                raise SimulatedCrash()
            self.crash_after -= 1


class FlakyDynamoDB:
    def __init__(self, client: Any, faults: Faults):
        self._client, self._faults = client, faults

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute) or name in ("get_paginator", "meta"):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self._faults.dynamodb_call(name)
            return attribute(*args, **kwargs)

        return call


@dataclass
class Outcome:
    problems: list[str]
    applied_uploads: int
    quarantined: int
    dead_lettered: int
    stream_failures: int
    alerts: int
    repeated_alerts: int = 0
    injected_errors: int = 0
    crashes: int = 0


def run_scenario(scenario: Scenario, seed: int) -> Outcome:
    from moto import mock_aws

    from aggregator.handlers import aggregate, alert, ingest

    environment = {
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "AWS_ACCESS_KEY_ID": "verify",
        "AWS_SECRET_ACCESS_KEY": "verify",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "BUCKET_NAME": BUCKET,
        "INSTANCE_VALUES_TABLE": TABLES["InstanceValuesTable"],
        "AGGREGATES_TABLE": TABLES["AggregatesTable"],
        "THRESHOLDS_TABLE": TABLES["ThresholdsTable"],
        "ALERT_STATES_TABLE": TABLES["AlertStatesTable"],
        "QUARANTINE_TABLE": TABLES["QuarantineTable"],
        "THRESHOLD_CACHE_SECONDS": "0",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "CRITICAL",
    }
    faults = Faults(scenario, seed)
    with mock.patch.dict(os.environ, environment), mock_aws():
        os.environ.pop("AWS_ENDPOINT_URL", None)
        plain = AwsClients(region=REGION)
        flaky_dynamodb = FlakyDynamoDB(plain("dynamodb"), faults)

        def clients(service: str) -> Any:
            return flaky_dynamodb if service == "dynamodb" else plain(service)

        handler_modules = (ingest, aggregate, alert)
        factories = (ingest.ingestor, aggregate.aggregates, alert.alerter)
        with _patched(handler_modules, clients), _silenced(handler_modules):
            for factory in factories:
                factory.cache_clear()
            try:
                return _run(scenario, faults, plain, ingest.handler, aggregate.handler, alert.handler)
            finally:
                for factory in factories:
                    factory.cache_clear()


def _run(scenario: Scenario, faults: Faults, aws: Any, ingest_handler, aggregate_handler, alert_handler) -> Outcome:
    from aggregator.deploy.template import load_template, table_definition

    s3, sqs, sns, dynamodb, streams = aws("s3"), aws("sqs"), aws("sns"), aws("dynamodb"), aws("dynamodbstreams")
    template = load_template()
    for logical_id, name in TABLES.items():
        dynamodb.create_table(**table_definition(template, logical_id, name))
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    dlq_url = sqs.create_queue(QueueName="verify-dlq")["QueueUrl"]
    dlq_arn = _queue_arn(sqs, dlq_url)
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)})
    queue_url = sqs.create_queue(QueueName="verify-ingest", Attributes={"RedrivePolicy": redrive})["QueueUrl"]
    failures_url = sqs.create_queue(QueueName="verify-stream-failures")["QueueUrl"]
    topic = sns.create_topic(Name="verify-alerts")["TopicArn"]
    inbox = sqs.create_queue(QueueName="verify-alerts-inbox")["QueueUrl"]
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=_queue_arn(sqs, inbox), Attributes={"RawMessageDelivery": "true"}
    )
    os.environ["ALERTS_TOPIC_ARN"] = topic
    for counter, threshold in scenario.thresholds.items():
        dynamodb.put_item(
            TableName=TABLES["ThresholdsTable"], Item={"Counter": {"S": counter}, "Threshold": {"N": str(threshold)}}
        )

    versions = []
    for position, upload in enumerate(scenario.uploads):
        key = f"counters/{upload.date}/{upload.instance}"
        response = s3.put_object(
            Bucket=BUCKET, Key=key, Body=upload.body, Metadata={"sampled-at": str(upload.sampled_at)}
        )
        versions.append((key, response["VersionId"], f"{position + 1:016X}"))
    for index in scenario.deliveries:
        key, version, sequencer = versions[index]
        record = {
            "eventSource": "aws:s3",
            "eventName": "ObjectCreated:Put",
            "eventTime": "2026-11-22T10:00:00.000Z",
            "s3": {"object": {"key": key, "versionId": version, "sequencer": sequencer}},
        }
        sqs.send_message(
            QueueUrl=queue_url,
            MessageBody=json.dumps({"Type": "Notification", "Message": json.dumps({"Records": [record]})}),
        )

    stop = threading.Event()
    ingest = SqsPoller(
        "ingest",
        _function("ingest", ingest_handler, faults, crashes=True),
        stop,
        sqs,
        queue_url,
        "arn:aws:sqs:us-east-1:123456789012:verify-ingest",
        REGION,
        10,
        wait_seconds=0,
        retry_visibility_seconds=0,
    )
    aggregate = StreamPoller(
        "aggregate",
        _function("aggregate", aggregate_handler, faults),
        stop,
        streams,
        sqs,
        _stream_arn(dynamodb, "InstanceValuesTable"),
        REGION,
        STREAM_SETTINGS,
        failures_url,
        retry_pause_seconds=0,
    )
    alert = StreamPoller(
        "alert",
        _function("alert", alert_handler, faults),
        stop,
        streams,
        sqs,
        _stream_arn(dynamodb, "AggregatesTable"),
        REGION,
        STREAM_SETTINGS,
        failures_url,
        retry_pause_seconds=0,
    )
    pollers = (ingest, aggregate, alert)
    _drain(pollers, sqs, queue_url)

    # The operator's turn, with the faults gone, through the same code as `bin/counters replay`:
    # --dead-letters, then --stream-failures (recompute and re-announce the dates they name).
    faults.enabled = False
    dead_lettered = Queue(sqs, dlq_url, wait_seconds=0).move_all_to(Queue(sqs, queue_url))
    _drain(pollers, sqs, queue_url)
    from aggregator.handlers.alert import alerter

    values_table = InstanceValuesTable(dynamodb, TABLES["InstanceValuesTable"])
    aggregates_table = AggregatesTable(dynamodb, TABLES["AggregatesTable"])
    repaired = repair_stream_failures(
        Queue(sqs, failures_url, wait_seconds=0),
        StreamReader(streams),
        lambda date: repair_date(date, values_table, aggregates_table, alerter(), "repair"),
    )
    _drain(pollers, sqs, queue_url)
    if repaired.unreadable:
        raise RuntimeError(f"stream failures left unrepaired: {repaired.unreadable}")
    stream_failures = repaired.messages
    outcome = _check(scenario, dynamodb, sqs, inbox, dlq_url, versions, dead_lettered, stream_failures)
    outcome.injected_errors, outcome.crashes = faults.injected_errors, faults.crashes
    return outcome


def _check(scenario, dynamodb, sqs, inbox, dlq_url, versions, dead_lettered, stream_failures) -> Outcome:
    problems = []
    truth = ground_truth(scenario)
    stored = {}
    for item in dynamodb.scan(TableName=TABLES["AggregatesTable"])["Items"]:
        stored[(item["Counter"]["S"], item["Date"]["S"])] = int(item["Value"]["N"])
    for key in sorted(set(truth) | set(stored)):
        if truth.get(key) != stored.get(key):
            problems.append(f"aggregate {key}: stored {stored.get(key)}, truth {truth.get(key)}")
    malformed = {versions[i][1] for i, u in enumerate(scenario.uploads) if u.counters is None}
    quarantined = {
        item["Version"]["S"]: item["Kind"]["S"] for item in dynamodb.scan(TableName=TABLES["QuarantineTable"])["Items"]
    }
    for version in malformed - set(quarantined):
        problems.append(f"malformed upload version {version} was not quarantined")
    for version, kind in quarantined.items():
        if version not in malformed:
            problems.append(f"valid upload version {version} was quarantined ({kind})")
    left = int(
        sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
    )
    if left:
        problems.append(f"{left} message(s) left in the dead-letter queue")
    published: dict[tuple[str, str], list[str]] = {}
    alerts = 0
    while messages := sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            body = json.loads(message["Body"])
            published.setdefault((body["counter"], body["date"]), []).append((body["state"], body["transitionId"]))
            sqs.delete_message(QueueUrl=inbox, ReceiptHandle=message["ReceiptHandle"])
            alerts += 1
    repeats = 0
    for key in sorted(set(published) | {k for k in truth if k[0] in scenario.thresholds}):
        # A message repeated with the same transitionId is one transition published twice (only a
        # failure between publishing and recording it does that; SNS itself may also repeat one).
        seen: dict[str, str] = {}
        for state, transition_id in published.get(key, []):
            repeats += transition_id in seen
            seen.setdefault(transition_id, state)
        states = list(seen.values())
        expected_final = state_for(stored.get(key), scenario.thresholds.get(key[0]))
        previous = OK
        for state in states:
            if state == previous:
                problems.append(f"alerts {key}: {states} announce {state} twice in a row")
                break
            previous = state
        if previous != expected_final:
            problems.append(
                f"alerts {key}: last announced {previous}, the final sum {stored.get(key)} calls for {expected_final}"
            )
        if states and states[0] != ALARM:
            problems.append(f"alerts {key}: {states} start with {states[0]}")
    return Outcome(
        problems,
        len(scenario.uploads) - len(malformed),
        len(quarantined),
        dead_lettered,
        stream_failures,
        alerts,
        repeats,
    )


def _function(name: str, handler, faults: Faults, crashes: bool = False) -> Function:
    def flaky(event: dict, context: Any) -> dict:
        if faults.enabled:
            if crashes and faults.rng.random() < faults.scenario.crash_rate:
                faults.crash_after = faults.rng.randrange(4)
            if not crashes and any(faults.rng.random() < faults.scenario.function_fault_rate for _ in event["Records"]):
                raise RuntimeError(f"{name}: injected function failure")
        try:
            return handler(event, context)
        except SimulatedCrash:
            raise RuntimeError(f"{name}: crashed part-way") from None
        finally:
            faults.crash_after = None

    return Function(name, f"arn:aws:lambda:us-east-1:123456789012:function:{name}", flaky, 60, 128)


def _drain(pollers, sqs, queue_url: str, limit: int = 2000) -> None:
    for _ in range(limit):
        busy = [poller.poll_once() for poller in pollers]
        if not any(busy) and not _queue_depth(sqs, queue_url):
            return
    raise RuntimeError("the pipeline did not drain")


def _queue_depth(sqs, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )
    return sum(int(v) for v in attributes["Attributes"].values())


def _queue_arn(sqs, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _stream_arn(dynamodb, logical_id: str) -> str:
    return dynamodb.describe_table(TableName=TABLES[logical_id])["Table"]["LatestStreamArn"]


class _patched:
    """Point the handler modules' client factory at the fault-injecting clients."""

    def __init__(self, modules, clients):
        self.patches = [mock.patch.object(m, "default_clients", lambda c=clients: c) for m in modules]

    def __enter__(self):
        for patch in self.patches:
            patch.start()

    def __exit__(self, *exc):
        for patch in self.patches:
            patch.stop()


class _silenced:
    """Injected failures are expected here: keep the handlers' and the runner's error logs quiet."""

    def __init__(self, _modules):
        pass

    def __enter__(self):
        logging.disable(logging.CRITICAL)

    def __exit__(self, *exc):
        logging.disable(logging.NOTSET)
