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


def upload_nested(s3, bucket: str, prefix: str, build: BuildResult) -> list[Upload]:
    """Put each nested template unless its key already exists."""
    results = []
    for path in build.nested.values():
        key = f"{prefix}{path.name}"
        try:
            s3.head_object(Bucket=bucket, Key=key)
            results.append(Upload(key, False))
            continue
        except ClientError as exc:
            if classify(exc) is not AwsErrorKind.NOT_FOUND:
                raise
        s3.put_object(
            Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType="application/json"
        )
        results.append(Upload(key, True))
    return results
