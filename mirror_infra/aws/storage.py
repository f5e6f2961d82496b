"""The S3, SSM and DynamoDB calls the deployer makes (artifacts upload, the nonce, destroy's
pre-checks), typed, in one place beside the CloudFormation gateway."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from mirror_infra.aws import partitions
from mirror_infra.aws.errors import AwsErrorKind, classify
from mirror_infra.aws.wait import Backoff

SSM_DELETE_BATCH = 10  # DeleteParameters takes at most 10 names
# "It typically takes less than a few seconds for the change to propagate throughout the
# system, but in some cases it can take several minutes. You might get unexpected errors, such
# as a NotFoundException" (https://docs.aws.amazon.com/kms/latest/developerguide/
# programming-eventual-consistency.html): a key just created (an express create does not wait
# for it) may not be found yet; SSM answers that as InvalidKeyId. Retried for this long.
KEY_PROPAGATION = 120.0


class S3:
    def __init__(self, client: Any, owner: str = "") -> None:
        self._client = client
        # ExpectedBucketOwner: a bucket of that name in another account is never written to
        self._owner = {"ExpectedBucketOwner": owner} if owner else {}

    def stored_sha256(self, bucket: str, key: str) -> str | None:
        """The SHA-256 checksum S3 computed for the object (base64); "" when it has none;
        None when there is no object. Without s3:ListBucket a missing key answers 403, not
        404 (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html): absent."""
        try:
            head = self._client.head_object(
                Bucket=bucket, Key=key, ChecksumMode="ENABLED", **self._owner
            )
        except ClientError as exc:
            if classify(exc) in (AwsErrorKind.NOT_FOUND, AwsErrorKind.ACCESS_DENIED):
                return None
            raise
        return head.get("ChecksumSHA256", "")

    def put(self, bucket: str, key: str, body: bytes, content_type: str) -> None:
        """Put with a SHA-256 checksum that S3 verifies on receipt and keeps with the object."""
        self._client.put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType=content_type,
            ChecksumAlgorithm="SHA256",
            **self._owner,
        )

    def has_objects(self, bucket: str) -> bool | None:
        """Whether any object version or delete marker is left; None when the bucket is gone."""
        try:
            listed = self._client.list_object_versions(Bucket=bucket, MaxKeys=1)
        except ClientError as exc:
            if classify(exc) is AwsErrorKind.NOT_FOUND:
                return None
            raise
        return bool(listed.get("Versions") or listed.get("DeleteMarkers"))

    def versions(self, bucket: str, prefix: str = "") -> list[dict[str, str]]:
        """Every object version and delete marker (under `prefix`): [{"Key", "VersionId"}]."""
        found: list[dict[str, str]] = []
        pages = self._client.get_paginator("list_object_versions").paginate(
            Bucket=bucket, **({"Prefix": prefix} if prefix else {}), **self._owner
        )
        for page in pages:
            for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                found.append({"Key": entry["Key"], "VersionId": entry["VersionId"]})
        return found

    def delete_versions(self, bucket: str, versions: list[dict[str, str]]) -> None:
        """Delete exactly these object versions and delete markers (1,000 a call)."""
        for start in range(0, len(versions), 1000):
            answer = self._client.delete_objects(
                Bucket=bucket,
                Delete={"Objects": versions[start : start + 1000], "Quiet": True},
                **self._owner,
            )
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise ClientError(
                    {"Error": {"Code": first.get("Code", ""), "Message": first.get("Message", "")}},
                    "DeleteObjects",
                )

    def template_url(self, bucket: str, key: str) -> str:
        """The virtual-host style URL CloudFormation reads a template from, in the client's
        region and partition (botocore's partition data)."""
        region = self._client.meta.region_name
        return partitions.of_region(region).s3_url(bucket, region, key)


@dataclass(frozen=True)
class Parameter:
    """An SSM parameter's metadata (its value is never read here)."""

    name: str
    type: str
    key_id: str
    version: int


class Ssm:
    def __init__(self, client: Any) -> None:
        self._client = client

    def parameters(self, path: str) -> list[Parameter]:
        """The parameters directly under `path`, with the key each is encrypted under, values
        never read (DescribeParameters, `ParameterFilters` `Path` `OneLevel`: https://docs.aws.
        amazon.com/systems-manager/latest/APIReference/API_DescribeParameters.html)."""
        found = []
        filters = [{"Key": "Path", "Option": "OneLevel", "Values": [path]}]
        for page in self._client.get_paginator("describe_parameters").paginate(
            ParameterFilters=filters
        ):
            for p in page["Parameters"]:
                found.append(Parameter(p["Name"], p["Type"], p.get("KeyId", ""), p["Version"]))
        return found

    def parameter(self, name: str) -> Parameter | None:
        try:
            p = self._client.get_parameter(Name=name, WithDecryption=False)["Parameter"]
        except ClientError as exc:
            if classify(exc) is AwsErrorKind.NOT_FOUND:
                return None
            raise
        return Parameter(p["Name"], p["Type"], "", p["Version"])

    def create_secure_string(
        self,
        name: str,
        value: str,
        key_id: str,
        description: str,
        waiting: Callable[[], None] = lambda: None,
    ) -> bool:
        """Create `name`; False when it already exists (never overwritten). A key that KMS
        does not know yet is waited for, within KEY_PROPAGATION (`waiting()` once, first)."""
        deadline = time.monotonic() + KEY_PROPAGATION
        for attempt, delay in enumerate(Backoff().delays()):
            try:
                self._client.put_parameter(
                    Name=name,
                    Description=description,
                    Value=value,
                    Type="SecureString",
                    KeyId=key_id,
                    Overwrite=False,
                    Tier="Standard",
                )
            except ClientError as exc:
                kind = classify(exc)
                if kind is AwsErrorKind.ALREADY_EXISTS:
                    return False
                if kind is not AwsErrorKind.KEY_UNKNOWN or time.monotonic() + delay > deadline:
                    raise
                if attempt == 0:
                    waiting()
                time.sleep(delay)
                continue
            return True
        raise AssertionError("unreachable")  # pragma: no cover

    def delete(self, names: list[str]) -> None:
        for start in range(0, len(names), SSM_DELETE_BATCH):
            self._client.delete_parameters(Names=names[start : start + SSM_DELETE_BATCH])


class DynamoDb:
    def __init__(self, client: Any) -> None:
        self._client = client

    def deletion_protection(self, table: str) -> bool | None:
        """Whether the table has deletion protection on; None when it does not exist."""
        try:
            found = self._client.describe_table(TableName=table)["Table"]
        except ClientError as exc:
            if classify(exc) is AwsErrorKind.NOT_FOUND:
                return None
            raise
        return bool(found.get("DeletionProtectionEnabled"))

    def turn_on_deletion_protection(self, table: str) -> None:
        """UpdateTable DeletionProtectionEnabled true
        (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTable.html)."""
        self._client.update_table(TableName=table, DeletionProtectionEnabled=True)
