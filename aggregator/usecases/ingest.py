"""Ingest: one S3 upload → conditional, stamp-guarded per-counter writes, or a quarantine entry."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote_plus

from aggregator.adapters.dynamodb import InstanceValuesTable, QuarantineEntry, QuarantineTable
from aggregator.adapters.s3 import S3Objects
from aggregator.domain.counter_file import MalformedFile, parse_counter_file
from aggregator.domain.errors import ItemTooLarge, ObjectMissing
from aggregator.domain.keys import RejectedKey, parse_key
from aggregator.domain.ordering import upload_stamp

APPLIED, QUARANTINED, IGNORED = "applied", "quarantined", "ignored"


class UnrecognisedMessage(ValueError):
    """A queue message that is not an SNS notification of S3 events."""


@dataclass(frozen=True)
class UploadNotice:
    """What an S3 ObjectCreated event tells us about one upload."""

    key: str
    version_id: str | None = None
    event_time: str | None = None
    sequencer: str | None = None
    etag: str | None = None
    uploader: str | None = None  # the S3 event's userIdentity.principalId, e.g. AWS:AROA…:i-0abc


@dataclass(frozen=True)
class IngestResult:
    status: str
    key: str
    written: int = 0
    skipped: int = 0
    reason: str = ""


def notices_from_sns_envelope(body: str) -> list[UploadNotice]:
    """Read the S3 event out of an SQS body holding an SNS notification.

    The S3 test event (no Records) gives no notices; anything that is not an SNS notification
    of S3 events raises UnrecognisedMessage.
    """
    try:
        envelope = json.loads(body)
        message = json.loads(envelope["Message"]) if isinstance(envelope, dict) and "Message" in envelope else envelope
    except (ValueError, TypeError) as exc:
        raise UnrecognisedMessage(f"message body is not JSON: {exc}") from exc
    if not isinstance(message, dict):
        raise UnrecognisedMessage("message is not a JSON object")
    if message.get("Event") == "s3:TestEvent":
        return []
    records = message.get("Records")
    if not isinstance(records, list):
        raise UnrecognisedMessage("message has no S3 Records")
    notices = []
    for record in records:
        try:
            if not str(record["eventSource"]) == "aws:s3" or not str(record["eventName"]).startswith("ObjectCreated"):
                continue
            obj = record["s3"]["object"]
            notices.append(
                UploadNotice(
                    key=unquote_plus(obj["key"]),
                    version_id=obj.get("versionId") or None,
                    event_time=record.get("eventTime"),
                    sequencer=obj.get("sequencer"),
                    etag=obj.get("eTag"),
                    uploader=(record.get("userIdentity") or {}).get("principalId"),
                )
            )
        except (KeyError, TypeError) as exc:
            raise UnrecognisedMessage(f"S3 record lacks {exc}") from exc
    return notices


class Ingestor:
    """Applies uploads to the InstanceValues table; records what it cannot apply."""

    def __init__(
        self,
        objects: S3Objects,
        instance_values: InstanceValuesTable,
        quarantine: QuarantineTable,
        key_prefix: str = "",
        max_object_bytes: int = 16 * 1024 * 1024,
        require_instance_uploader: bool = False,
        max_counters_per_file: int = 10_000,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ):
        self.objects = objects
        self.instance_values = instance_values
        self.quarantine = quarantine
        self.key_prefix = key_prefix
        self.max_object_bytes = max_object_bytes
        self.require_instance_uploader = require_instance_uploader
        self.max_counters_per_file = max_counters_per_file
        self.clock = clock

    def ingest(self, notice: UploadNotice) -> IngestResult:
        """Apply one upload whole, or quarantine it with a reason; AWS failures propagate (retry)."""
        version = notice.version_id or (notice.etag or "").strip('"') or "-"
        try:
            upload = parse_key(notice.key, self.key_prefix)
        except RejectedKey as exc:
            return self._quarantine(notice.key, version, "rejected-key", str(exc))
        if self.require_instance_uploader and notice.uploader is not None:
            if not notice.uploader.endswith(f":{upload.instance}"):
                return self._quarantine(
                    notice.key,
                    version,
                    "rejected-uploader",
                    f"written by {notice.uploader}, not by instance {upload.instance}'s role session",
                )
        try:
            stored = self.objects.read(notice.key, notice.version_id, max_bytes=self.max_object_bytes)
        except ObjectMissing as exc:
            return self._quarantine(notice.key, version, "missing-object", str(exc))
        except ValueError as exc:
            return self._quarantine(notice.key, version, "too-large", str(exc))
        version = stored.version_id or stored.etag or version
        try:
            counters = parse_counter_file(stored.body)
        except MalformedFile as exc:
            return self._quarantine(notice.key, version, "malformed", exc.reason, exc.position)
        if len(counters) > self.max_counters_per_file:
            # One conditional write per counter: beyond this a file would not finish inside the
            # function's timeout, and a half-written file retried forever helps nobody.
            return self._quarantine(
                notice.key,
                version,
                "too-many-counters",
                f"file has {len(counters)} counters; the limit is {self.max_counters_per_file} per file "
                "(template parameter MaxCountersPerFile)",
            )
        stamp = upload_stamp(
            stored.metadata,
            notice.event_time,
            stored.last_modified,
            notice.sequencer,
            read_exact_version=notice.version_id is not None,
        )
        try:
            outcome = self.instance_values.apply_upload(upload.date, upload.instance, counters, stamp)
        except ItemTooLarge as exc:
            return self._quarantine(notice.key, version, "too-large", str(exc))
        return IngestResult(APPLIED, notice.key, written=outcome.written, skipped=outcome.skipped)

    def replay(self, key: str) -> IngestResult:
        """Re-ingest the current version of a key (after ops fixed it); clears its quarantine entries on success."""
        result = self.ingest(UploadNotice(key=key))
        if result.status == APPLIED:
            self.quarantine.resolve_key(key)
        return result

    def _quarantine(self, key: str, version: str, kind: str, reason: str, position: str = "") -> IngestResult:
        self.quarantine.record(
            QuarantineEntry(
                object_key=key,
                version=version,
                kind=kind,
                reason=reason,
                position=position,
                recorded_at=self.clock().isoformat(timespec="seconds"),
            )
        )
        return IngestResult(QUARANTINED, key, reason=f"{kind}: {reason}")

    def quarantine_message(self, message_id: str, reason: str, body: str) -> IngestResult:
        """Record a queue message that is not an S3 notification (kept, truncated, for inspection)."""
        key = f"sqs-message/{message_id}"
        self.quarantine.record(
            QuarantineEntry(
                object_key=key,
                version="-",
                kind="unrecognised-message",
                reason=reason,
                position="-",
                recorded_at=self.clock().isoformat(timespec="seconds"),
                detail=body[:4000],
            )
        )
        return IngestResult(QUARANTINED, key, reason=f"unrecognised-message: {reason}")
