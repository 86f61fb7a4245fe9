"""S3: reading uploads, listing a date's uploads, writing snapshots and uploads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from aggregator.domain.errors import ObjectMissing, StoreUnavailable

MISSING_CODES = {"NoSuchKey", "NoSuchVersion", "404", "NotFound"}


@dataclass(frozen=True)
class StoredObject:
    key: str
    body: bytes
    metadata: dict[str, str]
    last_modified: dt.datetime
    etag: str
    version_id: str | None


class S3Objects:
    """One bucket's objects."""

    def __init__(self, client: Any, bucket: str):
        self.client = client
        self.bucket = bucket

    def read(self, key: str, version_id: str | None = None, max_bytes: int | None = None) -> StoredObject:
        """GetObject (a specific version when given); ObjectMissing when it is gone.

        max_bytes guards memory: an object larger than that raises ValueError before its body is read.
        """
        params = {"Bucket": self.bucket, "Key": key}
        if version_id:
            params["VersionId"] = version_id
        try:
            response = self.client.get_object(**params)
            if max_bytes is not None and response["ContentLength"] > max_bytes:
                response["Body"].close()
                raise ValueError(f"object is {response['ContentLength']} bytes; the limit is {max_bytes}")
            body = response["Body"].read()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in MISSING_CODES:
                raise ObjectMissing(f"s3://{self.bucket}/{key} ({version_id or 'latest'}) no longer exists") from exc
            raise StoreUnavailable(f"reading s3://{self.bucket}/{key}: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"reading s3://{self.bucket}/{key}: {exc}") from exc
        return StoredObject(
            key=key,
            body=body,
            metadata={k.lower(): v for k, v in response.get("Metadata", {}).items()},
            last_modified=response["LastModified"],
            etag=response.get("ETag", "").strip('"'),
            version_id=response.get("VersionId"),
        )

    def keys(self, prefix: str) -> Iterator[str]:
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                for entry in page.get("Contents", []):
                    yield entry["Key"]
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailable(f"listing s3://{self.bucket}/{prefix}: {exc}") from exc

    def put(self, key: str, body: bytes, content_type: str, metadata: dict[str, str] | None = None) -> str | None:
        """PutObject; returns the new version id (None on an unversioned bucket)."""
        try:
            response = self.client.put_object(
                Bucket=self.bucket, Key=key, Body=body, ContentType=content_type, Metadata=metadata or {}
            )
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailable(f"writing s3://{self.bucket}/{key}: {exc}") from exc
        return response.get("VersionId")
