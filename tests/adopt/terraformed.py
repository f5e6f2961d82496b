"""The source document's staging environment, made as its Terraform would make it: plain boto3
calls, none of this tool's templates. Its names are the seed's (SPEC §2), written out in
tests/expected.py independently of the code under test.

`python -m tests.adopt.terraformed` makes it on the running local AWS (the README's *Moving an
existing environment* uses it as a stand-in for the source document's `terraform apply`)."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field

from tests.expected import ExpectedNames


@dataclass(frozen=True)
class Copy:
    """Which environment the stand-in makes, in which region: the seed's names (SPEC §2), and
    Terraform's own for the bucket, the role and the region-less dashboard."""

    env: str
    region: str = "us-east-1"

    @property
    def names(self) -> ExpectedNames:
        return ExpectedNames(self.env)

    @property
    def bucket(self) -> str:  # the params' baselines_bucket names it
        return f"phase-mirror-{self.env}-baselines-tf"

    @property
    def role(self) -> str:
        return f"phase-mirror-{self.env}-app"

    @property
    def dashboard(self) -> str:  # the seed's name, before SPEC §2 added the region
        return f"mirror-dissonance-{self.env}"

    @property
    def log_group(self) -> str:
        return f"/mirror-dissonance/{self.env}/app"

    @property
    def topic(self) -> str:
        return f"mirror-dissonance-{self.env}-ops-alerts"


STAGING_COPY = Copy("staging")
STAGING = STAGING_COPY.names
TF_BUCKET = STAGING_COPY.bucket
TF_ROLE = STAGING_COPY.role
TF_DASHBOARD = STAGING_COPY.dashboard
ALARM_SUFFIXES = (
    "fp-events-read-throttle",
    "fp-events-write-throttle",
    "ssm-parameter-failures",
    "circuit-breaker-triggered",
)


def _nothing_before(kind: str, name: str) -> None:
    """The default `before` hook: the tests' local AWS is reset after each test anyway."""


@dataclass
class Terraformed:
    """What the Terraform-made environment holds, to compare before and after."""

    key_id: str = ""
    items: dict[str, list] = field(default_factory=dict)
    objects: list = field(default_factory=list)
    nonce: dict = field(default_factory=dict)


def _table(ddb, name: str, hash_key: str, range_key: str | None, key_arn: str, gsi=None):
    attributes = [hash_key, *([range_key] if range_key else [])]
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    extra = {}
    if gsi:
        attributes += list(gsi[1:])
        extra["GlobalSecondaryIndexes"] = [
            {
                "IndexName": gsi[0],
                "KeySchema": [
                    {"AttributeName": gsi[1], "KeyType": "HASH"},
                    {"AttributeName": gsi[2], "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ]
    ddb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in attributes],
        KeySchema=schema,
        BillingMode="PAY_PER_REQUEST",
        SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key_arn},
        **extra,
    )


def terraform_staging(
    local_aws,
    tables=True,
    everything=True,
    fp_events_keys=("pk", "sk"),
    copy: Copy = STAGING_COPY,
    before=_nothing_before,
):
    """Create the seed's staging environment (or `copy`'s) with boto3, configured as the seed's
    checklist asks (PITR, TTL, SSE with the key, rotation, alarms); what it holds is returned.
    `before(kind, name)` is told of each resource before it is created (make aws-proof
    records it, so that an interrupted run can delete it)."""
    made = Terraformed()
    names = copy.names
    kms = local_aws.client("kms")
    account = local_aws.client("sts").get_caller_identity()["Account"]
    policy = _key_policy(account, copy.region)
    description = f"mirror-dissonance {copy.env}"
    before("key", description)
    key = kms.create_key(Description=description, Policy=policy)["KeyMetadata"]
    before("key_id", key["KeyId"])
    kms.enable_key_rotation(KeyId=key["KeyId"])
    made.key_id = key["KeyId"]
    if tables:
        made.items = _tables(local_aws.client("dynamodb"), key["Arn"], fp_events_keys, copy, before)
    if not everything:
        return made
    before("alias", names.key_alias)
    kms.create_alias(AliasName=names.key_alias, TargetKeyId=key["KeyId"])
    before("topic", copy.topic)
    topic = local_aws.client("sns").create_topic(
        Name=copy.topic, Attributes={"KmsMasterKeyId": key["Arn"]}
    )["TopicArn"]
    logs = local_aws.client("logs")
    before("log_group", copy.log_group)
    logs.create_log_group(logGroupName=copy.log_group)
    logs.put_retention_policy(logGroupName=copy.log_group, retentionInDays=30)
    _alarms(local_aws.client("cloudwatch"), topic, copy, before)
    made.objects = _bucket(local_aws.client("s3"), key["Arn"], copy, before)
    before("role", copy.role)
    local_aws.client("iam").create_role(
        RoleName=copy.role,
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    ssm = local_aws.client("ssm")
    before("parameter", names.nonce_parameter(1))
    ssm.put_parameter(
        Name=names.nonce_parameter(1), Value="ab" * 32, Type="SecureString", KeyId=key["KeyId"]
    )
    made.nonce = nonce_of(ssm, copy)
    return made


def _tables(ddb, key_arn: str, fp_events_keys, copy: Copy, before) -> dict[str, list]:
    names = copy.names
    gsi = ("FindingIndex", "gsi1pk", "gsi1sk")
    for name in names.tables:
        before("table", name)
    _table(ddb, names.fp_events_table, *fp_events_keys, key_arn, gsi=gsi)
    _table(ddb, names.consent_table, "pk", "sk", key_arn)
    _table(ddb, names.block_counter_table, "bucketKey", None, key_arn)
    for table in names.tables:
        # CreateTable returns while the table is CREATING on AWS (instant on the local AWS)
        ddb.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 2})
        ddb.update_continuous_backups(
            TableName=table,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
    for table, attribute in (
        (names.fp_events_table, "expiresAt"),
        (names.block_counter_table, "ttl"),
    ):
        ddb.update_time_to_live(
            TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute}
        )
    fp_event = {"pk": "rule#r1", "sk": "event#1#e1", "gsi1pk": "finding#f", "gsi1sk": "x"}
    if fp_events_keys == ("pk", "sk"):
        ddb.put_item(
            TableName=names.fp_events_table, Item={k: {"S": v} for k, v in fp_event.items()}
        )
    ddb.put_item(
        TableName=names.block_counter_table,
        Item={"bucketKey": {"S": "r1:o1:1"}, "count": {"N": "3"}},
    )
    return {t: ddb.scan(TableName=t)["Items"] for t in names.tables}


def _alarms(cloudwatch, topic: str, copy: Copy, before) -> None:
    names = copy.names
    table = [{"Name": "TableName", "Value": names.fp_events_table}]
    above, at_least = "GreaterThanThreshold", "GreaterThanOrEqualToThreshold"
    namespace = f"PhaseMirror/{copy.env}"
    for suffix, space, metric, threshold, operator, dimensions in zip(
        ALARM_SUFFIXES,
        ("AWS/DynamoDB", "AWS/DynamoDB", namespace, namespace),
        (
            "ReadThrottleEvents",
            "WriteThrottleEvents",
            "SsmParameterFailures",
            "CircuitBreakerTriggered",
        ),
        (10, 10, 5, 1),
        (above, above, above, at_least),
        (table, table, [], []),
        strict=True,
    ):
        before("alarm", names.alarm(suffix))
        cloudwatch.put_metric_alarm(
            AlarmName=names.alarm(suffix),
            Namespace=space,
            MetricName=metric,
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=threshold,
            ComparisonOperator=operator,
            AlarmActions=[topic],
            Dimensions=dimensions,
        )
    before("dashboard", copy.dashboard)
    cloudwatch.put_dashboard(
        DashboardName=copy.dashboard, DashboardBody=json.dumps({"widgets": []})
    )


def _bucket(s3, key_arn: str, copy: Copy, before) -> list:
    bucket = copy.bucket
    before("bucket", bucket)
    # outside us-east-1, CreateBucket needs the region as its LocationConstraint
    where = (
        {}
        if copy.region == "us-east-1"
        else {"CreateBucketConfiguration": {"LocationConstraint": copy.region}}
    )
    s3.create_bucket(Bucket=bucket, **where)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": key_arn,
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    blocks = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
    s3.put_public_access_block(
        Bucket=bucket, PublicAccessBlockConfiguration=dict.fromkeys(blocks, True)
    )
    before("object", f"{bucket}/{BASELINE_KEY}")
    for body in (b"baseline v1", b"baseline v2"):
        s3.put_object(Bucket=bucket, Key=BASELINE_KEY, Body=body)
    return objects_of(s3, copy)


BASELINE_KEY = "baselines/rule-r1.json"


def _key_policy(account: str, region: str) -> str:
    root = f"arn:aws:iam::{account}:root"
    via = [
        {
            "Sid": f"Via{service}",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": f"{service}.{region}.amazonaws.com"}},
        }
        for service in ("dynamodb", "ssm")
    ]
    admin = {
        "Sid": "Root",
        "Effect": "Allow",
        "Principal": {"AWS": root},
        "Action": "kms:*",
        "Resource": "*",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [admin, *via]})


def objects_of(s3, copy: Copy = STAGING_COPY) -> list:
    listed = s3.list_object_versions(Bucket=copy.bucket)
    return sorted((v["Key"], v["VersionId"], v["ETag"]) for v in listed.get("Versions", []))


def nonce_of(ssm, copy: Copy = STAGING_COPY) -> dict:
    name = copy.names.nonce_parameter(1)
    found = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    return {"version": found["Version"], "value": found["Value"]}


def snapshot(aws, copy: Copy = STAGING_COPY) -> Terraformed:
    """What the environment holds now: items, object versions, the nonce."""
    ddb = aws.client("dynamodb")
    return Terraformed(
        items={t: ddb.scan(TableName=t)["Items"] for t in copy.names.tables},
        objects=objects_of(aws.client("s3"), copy),
        nonce=nonce_of(aws.client("ssm"), copy),
    )


class Clients:
    """boto3 clients of the local AWS at `url` (its fixed credentials)."""

    def __init__(self, url: str) -> None:
        import boto3

        self._session = boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        )
        self.url = url

    def client(self, service: str):
        return self._session.client(service, endpoint_url=self.url)


def main() -> int:
    from mirror_infra.aws.target import local_url

    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    made = terraform_staging(Clients(local_url()))
    rows = sum(len(items) for items in made.items.values())
    print(
        f"made the source document's staging environment: 3 tables ({rows} items), key "
        f"{STAGING.key_alias}, topic, 4 alarms, dashboard {TF_DASHBOARD}, log group, bucket "
        f"{TF_BUCKET} ({len(made.objects)} object versions), role {TF_ROLE}, nonce "
        f"{STAGING.nonce_parameter(1)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
