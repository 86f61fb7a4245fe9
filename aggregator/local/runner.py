"""Plays Lambda's event source mappings locally, from the settings the template declares.

An SQS poller and a DynamoDB-stream poller call the same handler functions Lambda would, with
Lambda-shaped events, honouring batch size, partial batch responses, bisection, bounded
retries, record age and the on-failure destination. Invocations are serialised (one lock):
moto serves one core anyway, and Powertools Metrics keeps process-wide state.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import logging
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aggregator.deploy.template import Resolver, resources_of_type

log = logging.getLogger("aggregator.local.runner")
INVOKE_LOCK = threading.Lock()
# Locally, a failed SQS message becomes visible again after this many seconds instead of the
# queue's visibility timeout (12 minutes in the template), so retries and redrive happen in
# test time. Everything else follows the template.
LOCAL_RETRY_VISIBILITY_SECONDS = 1


@dataclass
class LambdaContext:
    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    deadline_ms: float = 0.0

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self.deadline_ms - time.time() * 1000))


@dataclass
class Function:
    name: str
    arn: str
    handler: Callable[[dict, Any], dict]
    timeout: int
    memory: int

    def invoke(self, event: dict) -> dict:
        context = LambdaContext(self.name, self.arn, self.memory, deadline_ms=time.time() * 1000 + self.timeout * 1000)
        with INVOKE_LOCK:
            try:
                return self.handler(event, context) or {}
            finally:
                self._discard_metrics()

    def _discard_metrics(self) -> None:
        """CloudWatch is not emulated, so metrics are disabled locally (POWERTOOLS_METRICS_DISABLED);
        Powertools then never clears its metric set and would print it once it holds 100 values."""
        metrics = getattr(importlib.import_module(self.handler.__module__), "metrics", None)
        if metrics is not None:
            metrics.clear_metrics()


@dataclass
class Stats:
    invocations: int = 0
    errors: int = 0
    records: int = 0
    sent_to_failure_destination: int = 0
    last_work_done: float = field(default_factory=time.monotonic)  # when a poll that found work ended
    last_empty_poll: float = 0.0  # when the latest poll that found nothing (and left nothing in flight) began


def import_handler(dotted: str) -> Callable:
    module, _, attribute = dotted.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


class Poller(threading.Thread, ABC):
    def __init__(self, name: str, function: Function, stop: threading.Event):
        super().__init__(name=name, daemon=True)
        self.function = function
        self.stop_event = stop
        self.stats = Stats()

    def run(self) -> None:
        while not self.stop_event.is_set():
            began = time.monotonic()
            try:
                busy = self.poll_once()
            except Exception:  # noqa: BLE001 - a poller must survive anything and keep polling
                log.exception("%s: poll failed", self.name)
                busy = None
            if busy:
                self.stats.last_work_done = time.monotonic()
            else:
                if busy is False:
                    self.stats.last_empty_poll = began
                self.stop_event.wait(0.2)

    @abstractmethod
    def poll_once(self) -> bool:
        """Do one round of work; True when there was any."""


class SqsPoller(Poller):
    """Lambda's SQS poller: receive up to BatchSize, invoke, delete what succeeded."""

    def __init__(
        self,
        name,
        function,
        stop,
        sqs,
        queue_url: str,
        queue_arn: str,
        region: str,
        batch_size: int,
        wait_seconds: int = 1,
        retry_visibility_seconds: int = LOCAL_RETRY_VISIBILITY_SECONDS,
    ):
        super().__init__(name, function, stop)
        self.sqs, self.queue_url, self.queue_arn, self.region = sqs, queue_url, queue_arn, region
        self.batch_size = batch_size
        self.wait_seconds = wait_seconds
        self.retry_visibility_seconds = retry_visibility_seconds

    def poll_once(self) -> bool:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(10, self.batch_size),
            WaitTimeSeconds=self.wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return None if self._in_flight() else False
        event = {"Records": [self._record(m) for m in messages]}
        self.stats.invocations += 1
        self.stats.records += len(messages)
        try:
            failed = {f["itemIdentifier"] for f in self.function.invoke(event).get("batchItemFailures", [])}
        except Exception as exc:  # noqa: BLE001 - a function error fails the whole batch, as in Lambda
            log.error("%s: function error (%s: %s); the batch will be retried", self.name, type(exc).__name__, exc)
            self.stats.errors += 1
            failed = {m["MessageId"] for m in messages}
        for message in messages:
            if message["MessageId"] in failed:
                self.sqs.change_message_visibility(
                    QueueUrl=self.queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=self.retry_visibility_seconds,
                )
            else:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return True

    def _in_flight(self) -> bool:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return any(int(value) for value in attributes.values())

    def _record(self, message: dict) -> dict:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": message.get("MessageAttributes", {}),
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        }


class StreamPoller(Poller):
    """Lambda's DynamoDB-stream poller for one stream, shard by shard, in order."""

    def __init__(
        self,
        name,
        function,
        stop,
        streams,
        sqs,
        stream_arn: str,
        region: str,
        settings: dict,
        failure_queue_url: str | None,
        retry_pause_seconds: float = 0.05,
    ):
        super().__init__(name, function, stop)
        self.streams, self.sqs, self.stream_arn, self.region = streams, sqs, stream_arn, region
        self.batch_size = int(settings.get("BatchSize", 100))
        self.bisect = bool(settings.get("BisectBatchOnFunctionError", False))
        self.max_retries = int(settings.get("MaximumRetryAttempts", -1))
        self.max_age = int(settings.get("MaximumRecordAgeInSeconds", -1))
        self.starting_position = settings.get("StartingPosition", "TRIM_HORIZON")
        self.failure_queue_url = failure_queue_url
        self.retry_pause_seconds = retry_pause_seconds
        self.iterators: dict[str, str | None] = {}
        self.shards_checked_at = 0.0

    def poll_once(self) -> bool:
        self._discover_shards()
        busy = False
        for shard_id, iterator in list(self.iterators.items()):
            if iterator is None:
                continue
            response = self.streams.get_records(ShardIterator=iterator, Limit=self.batch_size)
            self.iterators[shard_id] = response.get("NextShardIterator")
            records = response.get("Records", [])
            if records:
                busy = True
                self._deliver(shard_id, [self._record(r) for r in records], self.max_retries)
        return busy

    def _discover_shards(self) -> None:
        if time.monotonic() - self.shards_checked_at < 5:
            return
        self.shards_checked_at = time.monotonic()
        description = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in description.get("Shards", []):
            if shard["ShardId"] not in self.iterators:
                self.iterators[shard["ShardId"]] = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard["ShardId"], ShardIteratorType=self.starting_position
                )["ShardIterator"]

    def _deliver(self, shard_id: str, batch: list[dict], retries_left: int) -> None:
        """Invoke until the batch succeeds, bisecting on errors, then give up to the destination."""
        while batch:
            if self._too_old(batch):
                self._send_to_failure_destination(shard_id, batch, "RecordAgeExceeded")
                return
            self.stats.invocations += 1
            self.stats.records += len(batch)
            try:
                failures = self.function.invoke({"Records": batch}).get("batchItemFailures", [])
            except Exception as exc:  # noqa: BLE001 - a function error, as Lambda sees it
                log.error("%s: function error on %d records (%s: %s)", self.name, len(batch), type(exc).__name__, exc)
                self.stats.errors += 1
                if self.bisect and len(batch) > 1:
                    middle = len(batch) // 2
                    self._deliver(shard_id, batch[:middle], retries_left)
                    self._deliver(shard_id, batch[middle:], retries_left)
                    return
                failures = [{"itemIdentifier": batch[0]["dynamodb"]["SequenceNumber"]}]
            if not failures:
                return
            self.stats.errors += 1
            first = min(int(f["itemIdentifier"]) for f in failures)
            batch = [r for r in batch if int(r["dynamodb"]["SequenceNumber"]) >= first]
            if retries_left == 0:
                self._send_to_failure_destination(shard_id, batch, "RetryAttemptsExhausted")
                return
            retries_left -= 1
            time.sleep(self.retry_pause_seconds)

    def _too_old(self, batch: list[dict]) -> bool:
        if self.max_age < 0:
            return False
        return time.time() - batch[0]["dynamodb"]["ApproximateCreationDateTime"] > self.max_age

    def _send_to_failure_destination(self, shard_id: str, batch: list[dict], condition: str) -> None:
        self.stats.sent_to_failure_destination += len(batch)
        log.error("%s: %d records sent to the on-failure destination (%s)", self.name, len(batch), condition)
        if not self.failure_queue_url:
            return
        arrival = [dt.datetime.fromtimestamp(r["dynamodb"]["ApproximateCreationDateTime"], dt.UTC) for r in batch]
        self.sqs.send_message(
            QueueUrl=self.failure_queue_url,
            MessageBody=json.dumps(
                {
                    "requestContext": {
                        "requestId": str(uuid.uuid4()),
                        "functionArn": self.function.arn,
                        "condition": condition,
                        "approximateInvokeCount": self.max_retries + 1,
                    },
                    "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
                    "version": "1.0",
                    "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
                    "DDBStreamBatchInfo": {
                        "shardId": shard_id,
                        "startSequenceNumber": batch[0]["dynamodb"]["SequenceNumber"],
                        "endSequenceNumber": batch[-1]["dynamodb"]["SequenceNumber"],
                        "approximateArrivalOfFirstRecord": arrival[0].isoformat(timespec="milliseconds"),
                        "approximateArrivalOfLastRecord": arrival[-1].isoformat(timespec="milliseconds"),
                        "batchSize": len(batch),
                        "streamArn": self.stream_arn,
                    },
                }
            ),
        )

    def _record(self, record: dict) -> dict:
        return lambda_stream_record(record, self.stream_arn, self.region)


def lambda_stream_record(record: dict, stream_arn: str, region: str) -> dict:
    """GetRecords output → the record shape Lambda delivers (epoch seconds, eventSourceARN)."""
    shaped = dict(record)
    shaped["dynamodb"] = dict(record["dynamodb"])
    created = shaped["dynamodb"].get("ApproximateCreationDateTime")
    if isinstance(created, dt.datetime):
        shaped["dynamodb"]["ApproximateCreationDateTime"] = created.timestamp()
    elif created is None:
        shaped["dynamodb"]["ApproximateCreationDateTime"] = time.time()
    shaped["eventSourceARN"] = stream_arn
    shaped.setdefault("awsRegion", region)
    return shaped


class LocalRunner:
    """Builds one poller per event source mapping the template declares, and runs them."""

    def __init__(self, clients: Any, template: dict, resolve: Resolver, region: str):
        self.clients = clients
        self.template = template
        self.resolve = resolve
        self.region = region
        self.stop_event = threading.Event()
        self.pollers: list[Poller] = []

    def function_environment(self) -> dict[str, str]:
        """The union of every function's environment, resolved (the handlers share one process)."""
        environment: dict[str, str] = {}
        for function in resources_of_type(self.template, "AWS::Lambda::Function").values():
            variables = function["Properties"].get("Environment", {}).get("Variables", {})
            for name, value in self.resolve(variables).items():
                if name in environment and environment[name] != str(value):
                    raise ValueError(f"functions disagree on {name}; the local runner shares one environment")
                environment[name] = str(value)
        return environment

    def build(self) -> None:
        functions = resources_of_type(self.template, "AWS::Lambda::Function")
        for name, mapping in resources_of_type(self.template, "AWS::Lambda::EventSourceMapping").items():
            props = mapping["Properties"]
            function_id = props["FunctionName"]["Ref"]
            spec = functions[function_id]["Properties"]
            function = Function(
                name=self.resolve({"Ref": function_id}),
                arn=self.resolve({"Fn::GetAtt": [function_id, "Arn"]}),
                handler=import_handler(spec["Handler"]),
                timeout=int(spec.get("Timeout", 3)),
                memory=int(spec.get("MemorySize", 128)),
            )
            source_id, attribute = props["EventSourceArn"]["Fn::GetAtt"]
            source_arn = self.resolve(props["EventSourceArn"])
            if attribute == "StreamArn":
                destination = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
                failure_url = None
                if destination:
                    failure_url = self.resolve({"Ref": destination["Fn::GetAtt"][0]})
                settings = {k: self.resolve(v) for k, v in props.items()}
                self.pollers.append(
                    StreamPoller(
                        name,
                        function,
                        self.stop_event,
                        self.clients("dynamodbstreams"),
                        self.clients("sqs"),
                        source_arn,
                        self.region,
                        settings,
                        failure_url,
                    )
                )
            else:
                self.pollers.append(
                    SqsPoller(
                        name,
                        function,
                        self.stop_event,
                        self.clients("sqs"),
                        self.resolve({"Ref": source_id}),
                        source_arn,
                        self.region,
                        int(props.get("BatchSize", 10)),
                    )
                )

    def start(self) -> None:
        for poller in self.pollers:
            poller.start()

    def stop(self, timeout: float = 5.0) -> None:
        self.stop_event.set()
        for poller in self.pollers:
            poller.join(timeout)

    def is_idle(self, since: float) -> bool:
        """True when every poller has polled and found nothing (nothing in flight either) after
        both `since` and the end of the last work any poller did: the pipeline has drained."""
        last_work = max([since] + [p.stats.last_work_done for p in self.pollers])
        return all(p.stats.last_empty_poll > last_work for p in self.pollers)
