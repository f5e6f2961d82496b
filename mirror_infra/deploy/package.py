"""Uploading the built nested templates to the artifacts bucket under content-addressed keys."""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import ClientError

from mirror_infra.aws.errors import AwsErrorKind, classify
from mirror_infra.build import BuildResult


@dataclass(frozen=True)
class Upload:
    key: str
    uploaded: bool  # False: already there (same name means same content)


def put_if_absent(s3, bucket: str, key: str, body: bytes) -> Upload:
    """Put `body` at `key` unless the key exists (content-addressed: same key, same bytes)."""
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return Upload(key, False)
    except ClientError as exc:
        if classify(exc) is not AwsErrorKind.NOT_FOUND:
            raise
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
    return Upload(key, True)


def upload_nested(s3, bucket: str, prefix: str, build: BuildResult) -> list[Upload]:
    """Put each nested template unless its key already exists."""
    return [
        put_if_absent(s3, bucket, f"{prefix}{path.name}", path.read_bytes())
        for path in build.nested.values()
    ]


def template_url(s3, bucket: str, key: str) -> str:
    """The virtual-host style URL CloudFormation reads a template from, in `s3`'s partition."""
    region = s3.meta.region_name
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://{bucket}.s3.{region}.{suffix}/{key}"
