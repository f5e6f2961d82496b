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

STAGING = ExpectedNames("staging")
# Terraform's bucket and role names are its own; the params' baselines_bucket names the bucket
TF_BUCKET = "phase-mirror-staging-baselines-tf"
TF_ROLE = "phase-mirror-staging-app"
TF_DASHBOARD = "mirror-dissonance-staging"  # the seed's name, before SPEC §2 added the region


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


def terraform_staging(local_aws, tables=True, everything=True, fp_events_keys=("pk", "sk")):
    """Create the seed's staging environment with boto3, configured as the seed's checklist
    asks (PITR, TTL, SSE with the key, rotation, alarms); what it holds is returned."""
    made = Terraformed()
    kms = local_aws.client("kms")
    account = local_aws.client("sts").get_caller_identity()["Account"]
    policy = _key_policy(account)
    key = kms.create_key(Description="mirror-dissonance staging", Policy=policy)["KeyMetadata"]
    kms.enable_key_rotation(KeyId=key["KeyId"])
    made.key_id = key["KeyId"]
    if tables:
        made.items = _tables(local_aws.client("dynamodb"), key["Arn"], fp_events_keys)
    if not everything:
        return made
    kms.create_alias(AliasName=STAGING.key_alias, TargetKeyId=key["KeyId"])
    topic = local_aws.client("sns").create_topic(
        Name=f"{STAGING.root_stack}-ops-alerts", Attributes={"KmsMasterKeyId": key["Arn"]}
    )["TopicArn"]
    logs = local_aws.client("logs")
    logs.create_log_group(logGroupName="/mirror-dissonance/staging/app")
    logs.put_retention_policy(logGroupName="/mirror-dissonance/staging/app", retentionInDays=30)
    _alarms(local_aws.client("cloudwatch"), topic)
    made.objects = _bucket(local_aws.client("s3"), key["Arn"])
    local_aws.client("iam").create_role(
        RoleName=TF_ROLE,
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
    ssm.put_parameter(
        Name=STAGING.nonce_parameter(1), Value="ab" * 32, Type="SecureString", KeyId=key["KeyId"]
    )
    made.nonce = nonce_of(ssm)
    return made


def _tables(ddb, key_arn: str, fp_events_keys) -> dict[str, list]:
    gsi = ("FindingIndex", "gsi1pk", "gsi1sk")
    _table(ddb, STAGING.fp_events_table, *fp_events_keys, key_arn, gsi=gsi)
    _table(ddb, STAGING.consent_table, "pk", "sk", key_arn)
    _table(ddb, STAGING.block_counter_table, "bucketKey", None, key_arn)
    for table in STAGING.tables:
        ddb.update_continuous_backups(
            TableName=table,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
    for table, attribute in (
        (STAGING.fp_events_table, "expiresAt"),
        (STAGING.block_counter_table, "ttl"),
    ):
        ddb.update_time_to_live(
            TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute}
        )
    fp_event = {"pk": "rule#r1", "sk": "event#1#e1", "gsi1pk": "finding#f", "gsi1sk": "x"}
    if fp_events_keys == ("pk", "sk"):
        ddb.put_item(
            TableName=STAGING.fp_events_table, Item={k: {"S": v} for k, v in fp_event.items()}
        )
    ddb.put_item(
        TableName=STAGING.block_counter_table,
        Item={"bucketKey": {"S": "r1:o1:1"}, "count": {"N": "3"}},
    )
    return {t: ddb.scan(TableName=t)["Items"] for t in STAGING.tables}


def _alarms(cloudwatch, topic: str) -> None:
    table = [{"Name": "TableName", "Value": STAGING.fp_events_table}]
    above, at_least = "GreaterThanThreshold", "GreaterThanOrEqualToThreshold"
    for suffix, namespace, metric, threshold, operator, dimensions in (
        ("fp-events-read-throttle", "AWS/DynamoDB", "ReadThrottleEvents", 10, above, table),
        ("fp-events-write-throttle", "AWS/DynamoDB", "WriteThrottleEvents", 10, above, table),
        ("ssm-parameter-failures", "PhaseMirror/staging", "SsmParameterFailures", 5, above, []),
        (
            "circuit-breaker-triggered",
            "PhaseMirror/staging",
            "CircuitBreakerTriggered",
            1,
            at_least,
            [],
        ),
    ):
        cloudwatch.put_metric_alarm(
            AlarmName=STAGING.alarm(suffix),
            Namespace=namespace,
            MetricName=metric,
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=threshold,
            ComparisonOperator=operator,
            AlarmActions=[topic],
            Dimensions=dimensions,
        )
    cloudwatch.put_dashboard(DashboardName=TF_DASHBOARD, DashboardBody=json.dumps({"widgets": []}))


def _bucket(s3, key_arn: str) -> list:
    s3.create_bucket(Bucket=TF_BUCKET)
    s3.put_bucket_versioning(Bucket=TF_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=TF_BUCKET,
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
        Bucket=TF_BUCKET, PublicAccessBlockConfiguration=dict.fromkeys(blocks, True)
    )
    for body in (b"baseline v1", b"baseline v2"):
        s3.put_object(Bucket=TF_BUCKET, Key="baselines/rule-r1.json", Body=body)
    return objects_of(s3)


def _key_policy(account: str) -> str:
    root = f"arn:aws:iam::{account}:root"
    via = [
        {
            "Sid": f"Via{service}",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": f"{service}.us-east-1.amazonaws.com"}},
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


def objects_of(s3) -> list:
    listed = s3.list_object_versions(Bucket=TF_BUCKET)
    return sorted((v["Key"], v["VersionId"], v["ETag"]) for v in listed.get("Versions", []))


def nonce_of(ssm) -> dict:
    found = ssm.get_parameter(Name=STAGING.nonce_parameter(1), WithDecryption=True)["Parameter"]
    return {"version": found["Version"], "value": found["Value"]}


def snapshot(aws) -> Terraformed:
    """What the environment holds now: items, object versions, the nonce."""
    ddb = aws.client("dynamodb")
    return Terraformed(
        items={t: ddb.scan(TableName=t)["Items"] for t in STAGING.tables},
        objects=objects_of(aws.client("s3")),
        nonce=nonce_of(aws.client("ssm")),
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
