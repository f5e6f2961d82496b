"""The whole environment from build/ on the local AWS: deploy through a change set, every
describe API as the template declared, in-place updates, drift, delete and re-create."""

from __future__ import annotations

import json

import pytest

from tests.localaws.deploy import change_set, deploy, execute, nested_stacks, stack_name, variant

ENV = "staging"
ROOT = stack_name(ENV)
EMAIL = "ops@example.com"
TABLES = ("fp-events", "consent", "block-counter")
# each table's TTL as the application's adapters write it (consent: none)
TTL = {
    "fp-events": {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"},
    "consent": {"TimeToLiveStatus": "DISABLED"},
    "block-counter": {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"},
}


def outputs(stack: dict) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def only_issue_759(row: dict) -> bool:
    """A nested change set's row that shows only the key's ARN, the Kms stack's output, as
    unknown (cloudformation-coverage-roadmap issue 759; tests/localaws/test_nested_outputs.py)."""
    return row["Action"] == "Modify" and {
        (d["ChangeSource"], d["Evaluation"], d.get("CausingEntity")) for d in row["Details"]
    } == {("ParameterReference", "Dynamic", "KmsKeyArn")}


def own_changes(cfn, change_set_id: str) -> list[dict]:
    """A nested change set's rows, less those of issue 759."""
    rows = [
        c["ResourceChange"] for c in cfn.describe_change_set(ChangeSetName=change_set_id)["Changes"]
    ]
    return [r for r in rows if not only_issue_759(r)]


def test_environment_deploys_and_describes_as_declared(local_aws, build_dirs):
    root = deploy(local_aws, build_dirs[ENV], ENV, extra={"AlertEmail": EMAIL})
    out = outputs(root)
    assert out["FpEventsTableName"] == f"mirror-dissonance-{ENV}-fp-events"
    assert out["KmsKeyArn"].startswith("arn:aws:kms:us-east-1:123456789012:key/")
    assert out["BaselinesBucketName"] == f"mirror-{ENV}-baselines-123456789012-us-east-1"
    assert len(out) == 12

    cfn = local_aws.client("cloudformation")
    nested = nested_stacks(local_aws, ROOT)
    assert set(nested) == {"Kms", "Dynamodb", "Monitoring", "Storage", "Iam"}
    for stack_id in nested.values():
        described = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
        assert described["StackStatus"] == "CREATE_COMPLETE"
        assert described["ParentId"] == root["StackId"] == described["RootId"]
        assert described["Outputs"]
    events = cfn.describe_stack_events(StackName=nested["Dynamodb"])["StackEvents"]
    assert {e["LogicalResourceId"] for e in events if e["ResourceStatus"] == "CREATE_COMPLETE"} >= {
        "FpEventsTable",
        "ConsentTable",
        "BlockCounterTable",
    }

    # KMS: key, policy (an object in the template), rotation, alias
    kms = local_aws.client("kms")
    key = kms.describe_key(KeyId=out["KmsKeyArn"])["KeyMetadata"]
    assert key["Description"].startswith("Phase Mirror staging")
    policy = json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])
    assert policy["Statement"][0]["Sid"] == "AccountRootAdministers"
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is True
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    assert aliases[f"alias/mirror-dissonance-{ENV}"] == key["KeyId"]

    # DynamoDB: PITR, TTL, SSE with the key, the GSI, billing, deletion protection
    ddb = local_aws.client("dynamodb")
    for short in TABLES:
        name = f"mirror-dissonance-{ENV}-{short}"
        table = ddb.describe_table(TableName=name)["Table"]
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert table["SSEDescription"] == {
            "Status": "ENABLED",
            "SSEType": "KMS",
            "KMSMasterKeyArn": out["KmsKeyArn"],
        }
        assert table["DeletionProtectionEnabled"] is False
        backups = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
        ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        assert ttl == TTL[short]
    fp = ddb.describe_table(TableName=f"mirror-dissonance-{ENV}-fp-events")["Table"]
    assert [g["IndexName"] for g in fp["GlobalSecondaryIndexes"]] == ["FindingIndex"]

    # CloudWatch alarms and the SNS topic with its (pending) email subscription
    cw = local_aws.client("cloudwatch")
    alarms = {a["AlarmName"]: a for a in cw.describe_alarms()["MetricAlarms"]}
    throttle = alarms[f"mirror-dissonance-{ENV}-fp-events-read-throttle"]
    assert throttle["Threshold"] == 10.0
    assert throttle["AlarmActions"] == [out["SnsTopicArn"]]
    assert throttle["Dimensions"] == [{"Name": "TableName", "Value": out["FpEventsTableName"]}]
    assert alarms[f"mirror-dissonance-{ENV}-circuit-breaker-triggered"]["Threshold"] == 1.0
    assert len(alarms) == 8
    assert cw.get_dashboard(DashboardName=f"mirror-dissonance-{ENV}-us-east-1")["DashboardBody"]
    sns = local_aws.client("sns")
    subs = sns.list_subscriptions_by_topic(TopicArn=out["SnsTopicArn"])["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"], s["SubscriptionArn"]) for s in subs] == [
        ("email", EMAIL, "PendingConfirmation")
    ]
    topic = sns.get_topic_attributes(TopicArn=out["SnsTopicArn"])["Attributes"]
    assert topic["KmsMasterKeyId"] == out["KmsKeyArn"]
    assert json.loads(topic["Policy"])["Statement"][0]["Sid"] == "AlarmsOfThisAccountPublish"

    # logs: encrypted group with retention and its metric filters
    logs = local_aws.client("logs")
    group = logs.describe_log_groups(logGroupNamePrefix=out["LogGroupName"])["logGroups"][0]
    assert group["retentionInDays"] == 30 and group["kmsKeyId"] == out["KmsKeyArn"]
    filters = logs.describe_metric_filters(logGroupName=out["LogGroupName"])["metricFilters"]
    assert len(filters) == 2

    # S3: encryption with the key, versioning, public access block, TLS-only policy
    s3 = local_aws.client("s3")
    bucket = out["BaselinesBucketName"]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
    )
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": out["KmsKeyArn"],
    }
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}

    # IAM: the role and its inline policy
    iam = local_aws.client("iam")
    role = out["AppRoleArn"].split("/")[-1]
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == ["phase-mirror-app"]


def _raise_threshold(template: dict) -> None:
    template["Resources"]["FpEventsReadThrottleAlarm"]["Properties"]["Threshold"] = 25


def _add_gsi(template: dict) -> None:
    table = template["Resources"]["ConsentTable"]["Properties"]
    table["AttributeDefinitions"].append({"AttributeName": "scope", "AttributeType": "S"})
    table["GlobalSecondaryIndexes"] = [
        {
            "IndexName": "ScopeIndex",
            "KeySchema": [{"AttributeName": "scope", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }
    ]


def test_update_applies_alarm_threshold_and_new_gsi_in_place(local_aws, build_dirs, tmp_path):
    deploy(local_aws, build_dirs[ENV], ENV)
    ddb = local_aws.client("dynamodb")
    consent = f"mirror-dissonance-{ENV}-consent"
    ddb.put_item(TableName=consent, Item={"pk": {"S": "org#1"}, "sk": {"S": "consent#a"}})
    before = nested_stacks(local_aws, ROOT)

    changed = variant(
        build_dirs[ENV], tmp_path / "v2", {"Monitoring": _raise_threshold, "Dynamodb": _add_gsi}
    )
    plan = change_set(local_aws, changed, ENV, "UPDATE", name="v2")
    rows = {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"] for c in plan["Changes"]}
    # every nested stack is listed (ChangeSource Automatic); only the changed ones have
    # changes of their own in their nested change sets (besides issue 759's rows)
    assert set(rows) == {"Kms", "Dynamodb", "Storage", "Monitoring", "Iam"}
    assert all(r["Action"] == "Modify" and r["Replacement"] == "False" for r in rows.values())
    cfn = local_aws.client("cloudformation")
    changed = {lid for lid, r in rows.items() if own_changes(cfn, r["ChangeSetId"])}
    assert changed == {"Monitoring", "Dynamodb"}
    stack = execute(local_aws, plan)
    assert stack["StackStatus"] == "UPDATE_COMPLETE"

    assert nested_stacks(local_aws, ROOT) == before  # updated in place, not re-created
    alarm = local_aws.client("cloudwatch").describe_alarms(
        AlarmNames=[f"mirror-dissonance-{ENV}-fp-events-read-throttle"]
    )["MetricAlarms"][0]
    assert alarm["Threshold"] == 25.0
    table = ddb.describe_table(TableName=consent)["Table"]
    assert [g["IndexName"] for g in table["GlobalSecondaryIndexes"]] == ["ScopeIndex"]
    assert ddb.scan(TableName=consent)["Count"] == 1  # the item survived
    cfn = local_aws.client("cloudformation")
    for stack_id in (before["Monitoring"], before["Dynamodb"]):
        assert cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == (
            "UPDATE_COMPLETE"
        )


def _drift(cfn, stack_id: str) -> tuple[str, dict[str, dict]]:
    detection = cfn.detect_stack_drift(StackName=stack_id)["StackDriftDetectionId"]
    status = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection)
    assert status["DetectionStatus"] == "DETECTION_COMPLETE"
    drifts = cfn.describe_stack_resource_drifts(StackName=stack_id)["StackResourceDrifts"]
    return status["StackDriftStatus"], {d["LogicalResourceId"]: d for d in drifts}


def test_drift_is_in_sync_then_reports_out_of_band_changes(local_aws, build_dirs):
    deploy(local_aws, build_dirs[ENV], ENV)
    cfn = local_aws.client("cloudformation")
    nested = nested_stacks(local_aws, ROOT)
    for logical, stack_id in nested.items():
        status, drifts = _drift(cfn, stack_id)
        assert status == "IN_SYNC", (
            logical,
            [d for d in drifts.values() if d.get("PropertyDifferences")],
        )
        assert {d["StackResourceDriftStatus"] for d in drifts.values()} == {"IN_SYNC"}
    status, drifts = _drift(cfn, ROOT)  # does not recurse into nested stacks, as on AWS
    assert status == "IN_SYNC"
    assert {d["StackResourceDriftStatus"] for d in drifts.values()} == {"NOT_CHECKED"}

    table = f"mirror-dissonance-{ENV}-fp-events"
    ddb = local_aws.client("dynamodb")
    ddb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False}
    )
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    ddb.untag_resource(ResourceArn=arn, TagKeys=["Environment"])
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "Environment", "Value": "prod"}])
    cw = local_aws.client("cloudwatch")
    alarm = cw.describe_alarms(AlarmNames=[f"mirror-dissonance-{ENV}-consent-read-throttle"])[
        "MetricAlarms"
    ][0]
    cw.put_metric_alarm(
        **{
            k: alarm[k]
            for k in (
                "AlarmName",
                "MetricName",
                "Namespace",
                "Statistic",
                "Period",
                "EvaluationPeriods",
                "ComparisonOperator",
                "Dimensions",
                "AlarmActions",
                "OKActions",
                "AlarmDescription",
                "TreatMissingData",
            )
        },
        Threshold=99,
    )
    bucket = f"mirror-{ENV}-baselines-123456789012-us-east-1"
    local_aws.client("s3").put_bucket_versioning(
        Bucket=bucket, VersioningConfiguration={"Status": "Suspended"}
    )

    status, drifts = _drift(cfn, nested["Dynamodb"])
    assert status == "DRIFTED"
    fp = drifts["FpEventsTable"]
    assert fp["StackResourceDriftStatus"] == "MODIFIED"
    diffs = {d["PropertyPath"]: d for d in fp["PropertyDifferences"]}
    assert diffs["/PointInTimeRecoverySpecification/PointInTimeRecoveryEnabled"] == {
        "PropertyPath": "/PointInTimeRecoverySpecification/PointInTimeRecoveryEnabled",
        "ExpectedValue": "true",
        "ActualValue": "false",
        "DifferenceType": "NOT_EQUAL",
    }
    assert diffs["/Tags/0/Value"]["ActualValue"] == "prod"
    assert json.loads(fp["ExpectedProperties"])["TableName"] == table
    assert json.loads(fp["ActualProperties"])["PointInTimeRecoverySpecification"] == {
        "PointInTimeRecoveryEnabled": False
    }
    assert drifts["ConsentTable"]["StackResourceDriftStatus"] == "IN_SYNC"

    status, drifts = _drift(cfn, nested["Monitoring"])
    assert status == "DRIFTED"
    (diff,) = drifts["ConsentReadThrottleAlarm"]["PropertyDifferences"]
    assert (diff["PropertyPath"], diff["ExpectedValue"], diff["ActualValue"]) == (
        "/Threshold",
        "10",
        "99.0",
    )
    status, drifts = _drift(cfn, nested["Storage"])
    assert status == "DRIFTED"
    paths = [d["PropertyPath"] for d in drifts["BaselinesBucket"]["PropertyDifferences"]]
    assert paths == ["/VersioningConfiguration/Status"]
    described = cfn.describe_stacks(StackName=nested["Storage"])["Stacks"][0]
    assert described["DriftInformation"]["StackDriftStatus"] == "DRIFTED"

    single = cfn.detect_stack_resource_drift(
        StackName=nested["Storage"], LogicalResourceId="BaselinesBucket"
    )["StackResourceDrift"]
    assert single["StackResourceDriftStatus"] == "MODIFIED"


def test_delete_then_create_again(local_aws, build_dirs):
    deploy(local_aws, build_dirs[ENV], ENV)
    cfn = local_aws.client("cloudformation")
    root_id = cfn.describe_stacks(StackName=ROOT)["Stacks"][0]["StackId"]
    cfn.delete_stack(StackName=ROOT)
    assert cfn.describe_stacks(StackName=root_id)["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"
    assert local_aws.client("iam").list_roles()["Roles"] == []
    assert local_aws.client("dynamodb").list_tables()["TableNames"] == []
    assert local_aws.client("cloudwatch").describe_alarms()["MetricAlarms"] == []
    deploy(local_aws, build_dirs[ENV], ENV)


def test_production_delete_retains_stateful_resources(local_aws, build_dirs):
    root = deploy(local_aws, build_dirs["production"], "production")
    out = outputs(root)
    cfn = local_aws.client("cloudformation")
    cfn.delete_stack(StackName=root["StackId"])
    assert cfn.describe_stacks(StackName=root["StackId"])["Stacks"][0]["StackStatus"] == (
        "DELETE_COMPLETE"
    )
    tables = local_aws.client("dynamodb").list_tables()["TableNames"]
    assert len(tables) == 3  # DeletionPolicy Retain
    table = local_aws.client("dynamodb").describe_table(TableName=out["FpEventsTableName"])
    assert table["Table"]["DeletionProtectionEnabled"] is True
    key = local_aws.client("kms").describe_key(KeyId=out["KmsKeyArn"])["KeyMetadata"]
    assert key["KeyState"] == "Enabled"
    assert local_aws.client("iam").list_roles()["Roles"] == []  # not retained: deleted


@pytest.mark.parametrize("env", ["staging", "production"])
def test_unchanged_redeploy_lists_only_automatic_rows_and_the_rows_of_issue_759(
    local_aws, build_dirs, env
):
    """API_ResourceChangeDetail: an unchanged nested stack is still a Modify row, ChangeSource
    Automatic; with nothing changed, its nested change set is empty — but for the resources
    whose key is the Kms stack's output, which AWS cannot resolve then (issue 759): the Kms
    stack's is empty, each other's holds those rows and nothing else."""
    deploy(local_aws, build_dirs[env], env)
    plan = change_set(local_aws, build_dirs[env], env, "UPDATE", name="again")
    assert plan["Status"] == "CREATE_COMPLETE"
    cfn = local_aws.client("cloudformation")
    shown = {}
    for change in plan["Changes"]:
        row = change["ResourceChange"]
        assert (row["Action"], row["ResourceType"]) == ("Modify", "AWS::CloudFormation::Stack")
        assert {d["ChangeSource"] for d in row["Details"]} == {"Automatic"}
        nested = cfn.describe_change_set(ChangeSetName=row["ChangeSetId"])["Changes"]
        assert own_changes(cfn, row["ChangeSetId"]) == []
        shown[row["LogicalResourceId"]] = {c["ResourceChange"]["LogicalResourceId"] for c in nested}
    assert shown == {
        "Kms": set(),
        "Dynamodb": {"FpEventsTable", "ConsentTable", "BlockCounterTable"},
        "Monitoring": {"AppLogGroup", "OpsAlertsTopic"},
        "Storage": {"BaselinesBucket"},
        "Iam": {"AppRole"},
    }
