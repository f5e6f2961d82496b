"""Read-only lookups of resources that may already exist outside any stack (`adopt`'s survey):
one finder per resource type, each answering what CloudFormation's import needs (the
resource's identifier) and what tells whether it can be adopted as it is (its shape, its
region, the stack that owns it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from mirror_infra.aws import partitions
from mirror_infra.aws.errors import AwsErrorKind, classify


@dataclass(frozen=True)
class TableShape:
    """What DynamoDB cannot change in place: keys, their attribute types, index keys."""

    keys: tuple[tuple[str, str], ...]  # (attribute, HASH|RANGE)
    types: tuple[tuple[str, str], ...]  # (attribute, S|N|B) of the key attributes
    indexes: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]  # (name, keys)


@dataclass(frozen=True)
class Existing:
    """A resource found by its name: what `Ref` gives, the import identifier, and facts."""

    physical_id: str
    identifier: dict[str, str]
    arn: str = ""
    region: str = ""  # a bucket's
    shape: TableShape | None = None  # a table's
    state: str = ""  # a key's KeyState
    extra: dict[str, str] = field(default_factory=dict)


def _absent(exc: ClientError) -> bool:
    # DescribeStackResources by physical id: "Stack for ... does not exist" when no stack has it
    return classify(exc) in (AwsErrorKind.NOT_FOUND, AwsErrorKind.STACK_NOT_FOUND)


def _lookup(call: Callable[[], Any]) -> Any | None:
    try:
        return call()
    except ClientError as exc:
        if _absent(exc):
            return None
        raise


class Inventory:
    """`client(service)` gives a boto3 client of the target account and region."""

    def __init__(self, client: Callable[[str], Any], account: str, region: str) -> None:
        self._client = client
        self.account = account
        self.region = region
        self._partition = partitions.of_region(region)
        self.partition = self._partition.name  # ${AWS::Partition}
        self.url_suffix = self._partition.dns_suffix  # ${AWS::URLSuffix}

    def table(self, name: str) -> Existing | None:
        found = _lookup(lambda: self._client("dynamodb").describe_table(TableName=name))
        if found is None:
            return None
        table = found["Table"]
        key_attrs = {k["AttributeName"] for k in table["KeySchema"]}
        indexes = tuple(
            sorted(
                (i["IndexName"], tuple((k["AttributeName"], k["KeyType"]) for k in i["KeySchema"]))
                for i in table.get("GlobalSecondaryIndexes", [])
            )
        )
        for _, keys in indexes:
            key_attrs |= {a for a, _ in keys}
        shape = TableShape(
            tuple((k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]),
            tuple(
                sorted(
                    (a["AttributeName"], a["AttributeType"])
                    for a in table["AttributeDefinitions"]
                    if a["AttributeName"] in key_attrs
                )
            ),
            indexes,
        )
        return Existing(name, {"TableName": name}, arn=table["TableArn"], shape=shape)

    def alias(self, name: str) -> Existing | None:
        """DescribeKey takes an alias name: one call, wherever the alias is in the listing."""
        found = _lookup(lambda: self._client("kms").describe_key(KeyId=name))
        if found is None:
            return None
        target = found["KeyMetadata"]["KeyId"]
        return Existing(name, {"AliasName": name}, extra={"TargetKeyId": target})

    def key(self, key_id: str) -> Existing | None:
        found = _lookup(lambda: self._client("kms").describe_key(KeyId=key_id))
        if found is None:
            return None
        meta = found["KeyMetadata"]
        return Existing(
            meta["KeyId"], {"KeyId": meta["KeyId"]}, arn=meta["Arn"], state=meta["KeyState"]
        )

    def log_group(self, name: str) -> Existing | None:
        pages = (
            self._client("logs")
            .get_paginator("describe_log_groups")
            .paginate(logGroupNamePrefix=name)
        )
        for page in pages:
            for group in page["logGroups"]:
                if group["logGroupName"] == name:
                    return Existing(name, {"LogGroupName": name}, arn=group.get("arn", ""))
        return None

    def alarm(self, name: str) -> Existing | None:
        found = self._client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
        if not found:
            return None
        return Existing(name, {"AlarmName": name}, arn=found[0].get("AlarmArn", ""))

    def dashboard(self, name: str) -> Existing | None:
        found = _lookup(lambda: self._client("cloudwatch").get_dashboard(DashboardName=name))
        if found is None:
            return None
        return Existing(name, {"DashboardName": name}, arn=found.get("DashboardArn", ""))

    def topic(self, name: str) -> Existing | None:
        arn = self._partition.arn("sns", self.region, self.account, name)
        found = _lookup(lambda: self._client("sns").get_topic_attributes(TopicArn=arn))
        if found is None:
            return None
        return Existing(arn, {"TopicArn": arn}, arn=arn)

    def bucket(self, name: str) -> Existing | None:
        """A bucket of this account (ExpectedBucketOwner), with its region."""
        s3 = self._client("s3")
        try:
            location = s3.get_bucket_location(Bucket=name, ExpectedBucketOwner=self.account)
        except ClientError as exc:
            if _absent(exc) or classify(exc) is AwsErrorKind.ACCESS_DENIED:
                return None  # absent, or another account's
            raise
        region = location.get("LocationConstraint") or "us-east-1"
        policy = _lookup(
            lambda: s3.get_bucket_policy(Bucket=name, ExpectedBucketOwner=self.account)
        )
        return Existing(
            name,
            {"BucketName": name},
            arn=self._partition.arn("s3", "", "", name),
            region=region,
            extra={"policy": "yes" if policy else ""},
        )

    def role(self, name: str) -> Existing | None:
        found = _lookup(lambda: self._client("iam").get_role(RoleName=name))
        if found is None:
            return None
        return Existing(name, {"RoleName": name}, arn=found["Role"]["Arn"])

    def owner(self, physical_id: str) -> str:
        """The stack that already manages `physical_id`, or ""."""
        found = _lookup(
            lambda: self._client("cloudformation").describe_stack_resources(
                PhysicalResourceId=physical_id
            )
        )
        for resource in (found or {}).get("StackResources", []):
            return resource["StackName"]
        return ""
