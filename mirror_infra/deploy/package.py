"""Uploading the built nested templates to the artifacts bucket under content-addressed keys."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from mirror_infra.aws.storage import S3
from mirror_infra.build import BuildResult


@dataclass(frozen=True)
class Upload:
    key: str
    uploaded: bool  # False: already there (same name means same content)


def put_if_absent(s3: S3, bucket: str, key: str, body: bytes) -> Upload:
    """Put `body` at `key` unless the object there is already exactly `body`: its SHA-256, as
    S3 computed it, is compared before reuse, so a tampered or truncated copy under the
    content-addressed key is replaced rather than trusted."""
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    if s3.stored_sha256(bucket, key) == digest:
        return Upload(key, False)
    s3.put(bucket, key, body, "application/json")
    return Upload(key, True)


def upload_nested(s3: S3, bucket: str, prefix: str, build: BuildResult) -> list[Upload]:
    """Put each nested template unless its key already exists."""
    return [
        put_if_absent(s3, bucket, f"{prefix}{path.name}", path.read_bytes())
        for path in build.nested.values()
    ]
