"""Each gap of SPEC §4: one test that shows it closed on the local AWS, and one canary
(`moto_canary`) that shows plain moto still has it. When a canary fails, moto has fixed the gap
upstream: delete the unit named in its docstring (see localaws/gaps.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

from tests.localaws.stacks import (
    TOPIC,
    TOPIC_OUTPUT,
    alarm,
    nested_root,
    put_template,
    table,
    template,
)

CAPS = ["CAPABILITY_NAMED_IAM"]


def server_error(exc: ClientError) -> bool:
    """Plain moto's answer to what it does not implement: HTTP 500; any other error is a real
    failure of the test, not the gap (it is raised, so the canary cannot pass on it)."""
    return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 500


def gap_answer(exc: ClientError, code: str, message: str = "") -> None:
    """Re-raise `exc` unless it is the answer plain moto gives for the gap a canary watches
    (its error code, and a part of its message when given): a canary passes only on its gap,
    never on a broken request."""
    error = exc.response.get("Error", {})
    if error.get("Code") != code or message not in error.get("Message", ""):
        raise exc


def unparsed(exc: ResponseParserError, body: str) -> None:
    """Re-raise `exc` unless the answer botocore could not parse holds `body` (plain moto
    answers some CloudFormation calls with an HTML error page or another service's error)."""
    if body not in str(exc):
        raise exc


def test_every_unit_named_for_a_gap_exists():
    """localaws/gaps.py names where each gap is closed: the names follow the files."""
    from localaws import gaps

    package = Path(gaps.__file__).parent
    named = {unit for units in gaps.GAPS.values() for unit in units}
    assert sorted(unit for unit in named if not (package / unit).exists()) == []


def via_change_set(aws, name: str, body: str, kind: str = "CREATE", nested: bool = True) -> dict:
    cfn = aws.client("cloudformation")
    made = cfn.create_change_set(
        StackName=name,
        ChangeSetName="c" + kind.lower(),
        ChangeSetType=kind,
        TemplateBody=body,
        Capabilities=CAPS,
        IncludeNestedStacks=nested,
    )
    return cfn.describe_change_set(ChangeSetName=made["Id"])


def create(aws, name: str, body: str) -> dict:
    cfn = aws.client("cloudformation")
    cfn.create_stack(StackName=name, TemplateBody=body, Capabilities=CAPS)
    return cfn.describe_stacks(StackName=name)["Stacks"][0]


def outputs(stack: dict) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}


def nested_outputs_work(aws) -> bool:
    url = put_template(aws, "child.json", template(TOPIC, TOPIC_OUTPUT))
    cfn = aws.client("cloudformation")
    plan = via_change_set(aws, "gap1", nested_root(url))
    cfn.execute_change_set(ChangeSetName=plan["ChangeSetId"])
    stack = cfn.describe_stacks(StackName="gap1")["Stacks"][0]
    return outputs(stack).get("ChildTopic", "").endswith(":gap-topic")


# gap 1: GetAtt <NestedStack>.Outputs.X, and Outputs of change-set-created stacks ------------------
def test_nested_outputs_resolve_through_a_change_set(local_aws):
    assert nested_outputs_work(local_aws)


@pytest.mark.moto_canary
def test_canary_plain_moto_drops_nested_outputs(plain_moto):
    """Closed by localaws/providers/cloudformation.py and cfn/stacks.py (finish/outputs)."""
    assert not nested_outputs_work(plain_moto)


# gap 2: nested stacks update in place, tables keep their items ---
def nested_update_keeps_data(aws) -> bool:
    cfn = aws.client("cloudformation")
    v1 = put_template(aws, "t1.json", template({"Table": table(), **TOPIC}, TOPIC_OUTPUT))
    v2 = put_template(
        aws,
        "t2.json",
        template(
            {
                "Table": table(TimeToLiveSpecification={"AttributeName": "ttl", "Enabled": True}),
                **TOPIC,
            },
            TOPIC_OUTPUT,
        ),
    )
    create(aws, "gap2", nested_root(v1, outputs=False))
    (child,) = cfn.describe_stack_resources(StackName="gap2")["StackResources"]
    aws.client("dynamodb").put_item(TableName="gap-table", Item={"pk": {"S": "kept"}})
    # plain moto answers the update and keeps a table of that name, but in a re-created nested
    # stack, with the item gone and TTL ignored
    cfn.update_stack(StackName="gap2", TemplateBody=nested_root(v2, outputs=False))
    (after,) = cfn.describe_stack_resources(StackName="gap2")["StackResources"]
    ddb = aws.client("dynamodb")
    items = ddb.scan(TableName="gap-table")["Count"]
    ttl = ddb.describe_time_to_live(TableName="gap-table")["TimeToLiveDescription"]
    same_stack = after["PhysicalResourceId"] == child["PhysicalResourceId"]
    return same_stack and items == 1 and ttl.get("TimeToLiveStatus") == "ENABLED"


def test_nested_stack_update_is_in_place(local_aws):
    assert nested_update_keeps_data(local_aws)


@pytest.mark.moto_canary
def test_canary_plain_moto_recreates_nested_stacks(plain_moto):
    """Closed by providers/cloudformation.py (update) and providers/dynamodb.py (in place)."""
    assert not nested_update_keeps_data(plain_moto)


# gap 3: KeyPolicy given as an object ---
KEY = {
    "Key": {
        "Type": "AWS::KMS::Key",
        "Properties": {
            "Description": "gap key",
            "KeyPolicy": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "Root",
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                        "Action": "kms:*",
                        "Resource": "*",
                    }
                ],
            },
        },
    }
}


def key_policy_works(aws) -> bool:
    create(aws, "gap3", template(KEY, {"KeyId": {"Value": {"Ref": "Key"}}}))
    cfn = aws.client("cloudformation")
    (res,) = cfn.describe_stack_resources(StackName="gap3")["StackResources"]
    kms = aws.client("kms")
    try:
        kms.describe_key(KeyId=res["PhysicalResourceId"])
    except ClientError as exc:  # plain moto: HTTP 500 on a key made with a policy object
        if not server_error(exc):
            raise
        return False
    policy = kms.get_key_policy(KeyId=res["PhysicalResourceId"], PolicyName="default")
    return json.loads(policy["Policy"])["Statement"][0]["Sid"] == "Root"


def test_key_policy_object_works(local_aws):
    assert key_policy_works(local_aws)


@pytest.mark.moto_canary
def test_canary_plain_moto_breaks_on_key_policy_object(plain_moto):
    """Closed by providers/kms.py."""
    assert not key_policy_works(plain_moto)


# gap 4: settings from the template visible through the describe APIs ---
SETTINGS = {
    "Table": table(
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        TimeToLiveSpecification={"AttributeName": "expiresAt", "Enabled": True},
    ),
    "Alarm": alarm(),
    "Bucket": {
        "Type": "AWS::S3::Bucket",
        "Properties": {
            "BucketName": "gap-settings-bucket",
            "VersioningConfiguration": {"Status": "Enabled"},
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
        },
    },
    **TOPIC,
    "Subscription": {
        "Type": "AWS::SNS::Subscription",
        "Properties": {"TopicArn": {"Ref": "Topic"}, "Protocol": "email", "Endpoint": "a@b.io"},
    },
}


SETTINGS_SHOWN = ("pitr", "ttl", "alarm", "versioning", "public_access_block", "subscription")


def settings_visible(aws) -> dict[str, bool]:
    """Each template setting, True when the resource shows it (every key, always)."""
    create(aws, "gap4", template(SETTINGS))
    ddb, s3 = aws.client("dynamodb"), aws.client("s3")
    pitr = ddb.describe_continuous_backups(TableName="gap-table")["ContinuousBackupsDescription"]
    topic = aws.client("sns").list_topics()["Topics"][0]["TopicArn"]
    subs = aws.client("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    try:
        block = s3.get_public_access_block(Bucket="gap-settings-bucket")
    except ClientError as exc:  # the bucket exists, its block was never set
        gap_answer(exc, "NoSuchPublicAccessBlockConfiguration")
        block = {}
    return {
        "pitr": pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED",
        "ttl": ddb.describe_time_to_live(TableName="gap-table")["TimeToLiveDescription"].get(
            "TimeToLiveStatus"
        )
        == "ENABLED",
        "alarm": bool(aws.client("cloudwatch").describe_alarms()["MetricAlarms"]),
        "versioning": s3.get_bucket_versioning(Bucket="gap-settings-bucket").get("Status")
        == "Enabled",
        "public_access_block": bool(block),
        "subscription": [s["SubscriptionArn"] for s in subs] == ["PendingConfirmation"],
    }


def test_template_settings_are_visible(local_aws):
    assert settings_visible(local_aws) == dict.fromkeys(SETTINGS_SHOWN, True)


@pytest.mark.moto_canary
def test_canary_plain_moto_ignores_template_settings(plain_moto):
    """Closed by providers/{dynamodb,cloudwatch,s3,sns}.py and moto_fixes/sns.py; delete a unit
    once its entry here turns True."""
    seen = settings_visible(plain_moto)
    assert seen == dict.fromkeys(SETTINGS_SHOWN, False), seen


# gap 5: change sets with Replacement/Scope/Details, nested change sets, no-op FAILED -------------
def test_change_set_rows_details_and_nested_change_sets(local_aws):
    cfn = local_aws.client("cloudformation")
    v1 = put_template(local_aws, "a1.json", template({"Alarm": alarm(10)}))
    put_template(local_aws, "a2.json", template({"Alarm": alarm(20)}))
    root = template(
        {
            "Child": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": v1}},
            "Renamed": alarm(1, "gap-renamed-a"),
        }
    )
    cfn.execute_change_set(ChangeSetName=via_change_set(local_aws, "gap5", root)["ChangeSetId"])
    changed = root.replace("a1.json", "a2.json").replace("gap-renamed-a", "gap-renamed-b")
    plan = via_change_set(local_aws, "gap5", changed, "UPDATE")
    rows = {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"] for c in plan["Changes"]}
    assert rows["Renamed"]["Replacement"] == "True"
    assert rows["Renamed"]["Scope"] == ["Properties"]
    assert rows["Renamed"]["Details"][0] == {
        "Target": {"Attribute": "Properties", "Name": "AlarmName", "RequiresRecreation": "Always"},
        "Evaluation": "Static",
        "ChangeSource": "DirectModification",
    }
    child = rows["Child"]
    assert child["Action"] == "Modify" and child["Replacement"] == "False"
    nested = cfn.describe_change_set(ChangeSetName=child["ChangeSetId"])
    assert nested["ParentChangeSetId"] == nested["RootChangeSetId"] == plan["ChangeSetId"]
    (row,) = [c["ResourceChange"] for c in nested["Changes"]]
    assert (row["LogicalResourceId"], row["Replacement"]) == ("Alarm", "False")
    assert row["Details"][0]["Target"]["Name"] == "Threshold"
    cfn.execute_change_set(ChangeSetName=plan["ChangeSetId"])
    threshold = local_aws.client("cloudwatch").describe_alarms(AlarmNames=["gap-alarm"])
    assert threshold["MetricAlarms"][0]["Threshold"] == 20.0
    assert cfn.describe_change_set(ChangeSetName=child["ChangeSetId"])["ExecutionStatus"] == (
        "EXECUTE_COMPLETE"
    )


def no_op_change_set_fails_like_aws(aws) -> bool:
    cfn = aws.client("cloudformation")
    body = template(
        {"Alarm": alarm()}, parameters={"Env": {"Type": "String", "Default": "staging"}}
    )
    params = [{"ParameterKey": "Env", "ParameterValue": "staging"}]
    cfn.create_stack(StackName="gap5b", TemplateBody=body, Parameters=params)
    try:
        made = cfn.create_change_set(
            StackName="gap5b",
            ChangeSetName="again",
            ChangeSetType="UPDATE",
            TemplateBody=body,
            Parameters=params,
        )
    except ClientError as exc:  # plain moto refuses the call instead
        gap_answer(exc, "ValidationError", "No updates are to be performed.")
        return False
    plan = cfn.describe_change_set(ChangeSetName=made["Id"])
    return plan["Status"] == "FAILED" and "didn't contain changes" in plan["StatusReason"]


def test_no_op_change_set_is_failed_not_an_error(local_aws):
    assert no_op_change_set_fails_like_aws(local_aws)


@pytest.mark.moto_canary
def test_canary_plain_moto_change_sets_lack_details(plain_moto):
    """Closed by cfn/change_set_computation.py."""
    assert not no_op_change_set_fails_like_aws(plain_moto)
    body = template({"Alarm": alarm(10)})
    plan = via_change_set(plain_moto, "gap5c", body, nested=False)
    plain_moto.client("cloudformation").execute_change_set(ChangeSetName=plan["ChangeSetId"])
    plan = via_change_set(plain_moto, "gap5c", template({"Alarm": alarm(20)}), "UPDATE", False)
    (row,) = [c["ResourceChange"] for c in plan["Changes"]]
    assert "Details" not in row or not row["Details"]


# gap 6: delete removes what the stack made (IAM too); Retain and deletion protection ---
ROLE = {
    "Role": {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": "gap-role",
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
            "Policies": [
                {
                    "PolicyName": "p",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
                        ],
                    },
                }
            ],
        },
    }
}


def roles_survive_delete(aws) -> bool:
    """The role lives in a nested stack, as this environment's does."""
    url = put_template(aws, "role.json", template(ROLE))
    create(aws, "gap6", nested_root(url, outputs=False))
    assert aws.client("iam").list_roles()["Roles"]
    aws.client("cloudformation").delete_stack(StackName="gap6")
    return bool(aws.client("iam").list_roles()["Roles"])


def test_delete_removes_iam_and_create_works_again(local_aws):
    assert not roles_survive_delete(local_aws)
    again = create(
        local_aws, "gap6", nested_root(f"{local_aws.url}/gap-artifacts/role.json", False)
    )
    assert again["StackStatus"] == "CREATE_COMPLETE"


def protected_delete_fails_like_aws(aws) -> bool:
    cfn = aws.client("cloudformation")
    stack = create(
        aws,
        "gap6p",
        template({"Protected": table("gap-protected", DeletionProtectionEnabled=True)}),
    )
    try:
        cfn.delete_stack(StackName="gap6p")
    except ResponseParserError as exc:  # plain moto answers with DynamoDB's error body
        unparsed(exc, "deleted while DeletionProtectionEnabled is set to True")
        return False
    status = cfn.describe_stacks(StackName=stack["StackId"])["Stacks"][0]["StackStatus"]
    return status == "DELETE_FAILED"


@pytest.mark.moto_canary
def test_canary_plain_moto_cannot_fail_a_delete(plain_moto):
    """Closed by cfn/operations/delete.py (delete: DELETE_FAILED with the handler's reason).

    (SPEC §4 also says IAM roles survive deletion; with moto 5.2.5 and these small stacks,
    plain moto deletes them, so there is no canary for that part.)"""
    assert not protected_delete_fails_like_aws(plain_moto)


def test_protected_table_fails_delete_and_retain_is_kept(local_aws):
    cfn = local_aws.client("cloudformation")
    body = template(
        {
            "Protected": table("gap-protected", DeletionProtectionEnabled=True),
            "Kept": {**table("gap-kept"), "DeletionPolicy": "Retain"},
        }
    )
    stack = create(local_aws, "gap6b", body)
    cfn.delete_stack(StackName="gap6b")
    described = cfn.describe_stacks(StackName=stack["StackId"])["Stacks"][0]
    assert described["StackStatus"] == "DELETE_FAILED"
    assert "Protected" in described["StackStatusReason"]
    events = cfn.describe_stack_events(StackName=stack["StackId"])["StackEvents"]
    failed = [
        e
        for e in events
        if e["ResourceStatus"] == "DELETE_FAILED"
        and e["ResourceType"] != "AWS::CloudFormation::Stack"
    ]
    assert failed[0]["LogicalResourceId"] == "Protected"
    assert "DeletionProtectionEnabled" in failed[0]["ResourceStatusReason"]
    skipped = [e["LogicalResourceId"] for e in events if e["ResourceStatus"] == "DELETE_SKIPPED"]
    assert skipped == ["Kept"]
    assert sorted(local_aws.client("dynamodb").list_tables()["TableNames"]) == [
        "gap-kept",
        "gap-protected",
    ]


def test_failed_create_rolls_back_with_a_reason(local_aws):
    cfn = local_aws.client("cloudformation")
    local_aws.client("dynamodb").create_table(
        TableName="gap-table",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    stack = create(local_aws, "gap6c", template({"Alarm": alarm(), "Table": table()}))
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName="gap6c")["StackEvents"]
    (failed,) = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed["LogicalResourceId"] == "Table"
    assert "already exists" in failed["ResourceStatusReason"].lower()
    assert local_aws.client("cloudwatch").describe_alarms()["MetricAlarms"] == []


# gap 7: drift detection ---
def drift_detected(aws) -> bool:
    create(aws, "gap7", template({"Alarm": alarm(10)}))
    cw = aws.client("cloudwatch")
    props = alarm(99)["Properties"]
    cw.put_metric_alarm(**props)
    cfn = aws.client("cloudformation")
    try:
        detection = cfn.detect_stack_drift(StackName="gap7")["StackDriftDetectionId"]
    except ResponseParserError as exc:  # plain moto: its HTTP 500 page, not implemented
        unparsed(exc, "500 Internal Server Error")
        return False
    status = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection)
    return status["StackDriftStatus"] == "DRIFTED"


def test_drift_is_detected(local_aws):
    assert drift_detected(local_aws)


@pytest.mark.moto_canary
def test_canary_plain_moto_has_no_drift_detection(plain_moto):
    """Closed by cfn/drift.py."""
    assert not drift_detected(plain_moto)


# gap 8: TemplateURL of the local endpoint, path style ---
def path_style_url_works(aws) -> bool:
    put_template(aws, "child.json", template(TOPIC, TOPIC_OUTPUT))
    url = f"{aws.url}/gap-artifacts/child.json"
    try:
        stack = create(aws, "gap8", nested_root(url, outputs=False))
    except ClientError as exc:  # plain moto reads the host "127.0.0.1" as a bucket name
        gap_answer(exc, "NoSuchBucket")
        return False
    return stack["StackStatus"] == "CREATE_COMPLETE"


def test_path_style_template_url_resolves(local_aws):
    assert path_style_url_works(local_aws)


@pytest.mark.moto_canary
def test_canary_plain_moto_rejects_path_style_template_url(plain_moto):
    """Closed by cfn/templates.py."""
    assert not path_style_url_works(plain_moto)


# services: the TLS-only bucket policy ---
def tls_only_bucket_usable(aws) -> bool:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="gap-tls-bucket")
    statement = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::gap-tls-bucket", "arn:aws:s3:::gap-tls-bucket/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    s3.put_bucket_policy(
        Bucket="gap-tls-bucket",
        Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
    )
    try:
        s3.put_object(Bucket="gap-tls-bucket", Key="k", Body=b"x")
    except ClientError as exc:  # plain moto: HTTP 403 "Forbidden", the policy read as a denial
        gap_answer(exc, "403", "Forbidden")
        return False
    return s3.get_object(Bucket="gap-tls-bucket", Key="k")["Body"].read() == b"x"


def test_tls_only_bucket_policy_allows_requests(local_aws):
    assert tls_only_bucket_usable(local_aws)


@pytest.mark.moto_canary
def test_canary_plain_moto_denies_everything_under_a_tls_only_policy(plain_moto):
    """Closed by moto_fixes/s3.py."""
    assert not tls_only_bucket_usable(plain_moto)


# UpdateTimeToLive as AWS documents it (moto is laxer: it switches the attribute at once) ---
TTL_TABLE = "gap-ttl-table"


def _ttl(ddb, attribute: str, enabled: bool) -> None:
    ddb.update_time_to_live(
        TableName=TTL_TABLE,
        TimeToLiveSpecification={"AttributeName": attribute, "Enabled": enabled},
    )


def _refused(call) -> str:
    """The ValidationException's message, or "" when AWS would have accepted the call."""
    try:
        call()
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "ValidationException", exc
        return exc.response["Error"]["Message"]
    return ""


def ttl_switch_refused(aws) -> bool:
    ddb = aws.client("dynamodb")
    ddb.create_table(**table(TTL_TABLE)["Properties"])
    _ttl(ddb, "expiresAt", True)
    refused = _refused(lambda: _ttl(ddb, "ttl", True))
    return "different AttributeName" in refused


def test_ttl_attribute_cannot_switch_while_on(local_aws):
    # CloudFormation template reference, AWS::DynamoDB::Table TimeToLiveSpecification:
    # "you must first disable TTL and then enable TTL with the new attribute name"
    assert ttl_switch_refused(local_aws)
    ddb = local_aws.client("dynamodb")
    assert ddb.describe_time_to_live(TableName=TTL_TABLE)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expiresAt",
    }


@pytest.mark.moto_canary
def test_canary_plain_moto_switches_the_ttl_attribute_at_once(plain_moto):
    """Closed by moto_fixes/dynamodb.py."""
    assert not ttl_switch_refused(plain_moto)


def test_one_ttl_change_per_table_per_hour(local_aws, monkeypatch):
    # DynamoDB API reference, UpdateTimeToLive: "Any additional UpdateTimeToLive calls for the
    # same table during this one hour duration result in a ValidationException"
    from localaws.moto_fixes import dynamodb as rules

    now = [1_000_000.0]
    monkeypatch.setattr(rules, "clock", lambda: now[0])
    ddb = local_aws.client("dynamodb")
    ddb.create_table(**table(TTL_TABLE)["Properties"])
    describe = lambda: ddb.describe_time_to_live(TableName=TTL_TABLE)["TimeToLiveDescription"]  # noqa: E731

    _ttl(ddb, "expiresAt", True)
    now[0] += 3599
    assert "multiple times" in _refused(lambda: _ttl(ddb, "expiresAt", False))
    now[0] += 1
    assert _refused(lambda: _ttl(ddb, "expiresAt", False)) == ""
    assert describe() == {"TimeToLiveStatus": "DISABLED"}
    assert "multiple times" in _refused(lambda: _ttl(ddb, "ttl", True))
    now[0] += 3600
    assert _refused(lambda: _ttl(ddb, "ttl", True)) == ""
    assert describe() == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}
    now[0] += 3600
    assert "already enabled" in _refused(lambda: _ttl(ddb, "ttl", True))
    # another table has its own hour
    ddb.create_table(**table("gap-other-table")["Properties"])
    ddb.update_time_to_live(
        TableName="gap-other-table",
        TimeToLiveSpecification={"AttributeName": "ttl", "Enabled": True},
    )


# CloudWatch Logs AssociateKmsKey / DisassociateKmsKey ------------------------------------------
def log_group_key_follows(aws) -> bool:
    """API_AssociateKmsKey.html: the log group's kmsKeyId becomes the key; Disassociate removes
    it (DescribeLogGroups shows it)."""
    logs = aws.client("logs")
    key = aws.client("kms").create_key()["KeyMetadata"]["Arn"]
    logs.create_log_group(logGroupName="/gap/kms")

    def shown() -> str | None:
        groups = logs.describe_log_groups(logGroupNamePrefix="/gap/kms")["logGroups"]
        return groups[0].get("kmsKeyId")

    try:
        logs.associate_kms_key(logGroupName="/gap/kms", kmsKeyId=key)
    except ClientError as exc:  # plain moto: HTTP 500, the action is not implemented
        if not server_error(exc):
            raise
        return False
    associated = shown()
    logs.disassociate_kms_key(logGroupName="/gap/kms")
    return associated == key and shown() is None


def test_log_group_kms_key_is_associated_and_removed(local_aws):
    assert log_group_key_follows(local_aws)


@pytest.mark.moto_canary
def test_canary_plain_moto_has_no_associate_kms_key(plain_moto):
    """Closed by moto_fixes/logs.py."""
    assert not log_group_key_follows(plain_moto)


# IAM AddClientIDToOpenIDConnectProvider / RemoveClientIDFromOpenIDConnectProvider -------------
def oidc_audiences_follow(aws) -> bool:
    """API_AddClientIDToOpenIDConnectProvider.html: the client ID joins the provider's list,
    and adding it again neither fails nor repeats it ("This operation is idempotent");
    API_RemoveClientIDFromOpenIDConnectProvider.html: removing it, twice, leaves the list as
    before; an unknown provider is NoSuchEntity (both pages' Errors)."""
    iam = aws.client("iam")
    arn = iam.create_open_id_connect_provider(
        Url="https://oidc.gap.example.com", ClientIDList=["first"]
    )["OpenIDConnectProviderArn"]

    def audiences() -> list[str]:
        return iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"]

    try:
        iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="sts")
    except ResponseParserError as exc:  # plain moto: an HTML page, the action is not implemented
        unparsed(exc, "500 Internal Server Error")
        return False
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="sts")
    added = audiences()
    for _ in range(2):
        iam.remove_client_id_from_open_id_connect_provider(
            OpenIDConnectProviderArn=arn, ClientID="sts"
        )
    with pytest.raises(ClientError) as unknown:
        iam.add_client_id_to_open_id_connect_provider(
            OpenIDConnectProviderArn=arn.replace("gap", "none"), ClientID="sts"
        )
    assert unknown.value.response["Error"]["Code"] == "NoSuchEntity"
    return added == ["first", "sts"] and audiences() == ["first"]


def test_oidc_provider_audiences_are_added_and_removed(local_aws):
    assert oidc_audiences_follow(local_aws)
    # API_AddClientIDToOpenIDConnectProvider: ClientID "Maximum length of 255"; LimitExceeded
    # beyond the quota of client IDs a provider holds (100, as CreateOpenIDConnectProvider)
    iam = local_aws.client("iam")
    arn = iam.create_open_id_connect_provider(
        Url="https://oidc.full.example.com", ClientIDList=[f"audience-{n}" for n in range(100)]
    )["OpenIDConnectProviderArn"]
    for client_id, code in (("x" * 256, "ValidationError"), ("one-more", "LimitExceeded")):
        with pytest.raises(ClientError) as refused:
            iam.add_client_id_to_open_id_connect_provider(
                OpenIDConnectProviderArn=arn, ClientID=client_id
            )
        assert refused.value.response["Error"]["Code"] == code, refused.value
    # one it holds already, at the quota: idempotent, no error
    iam.add_client_id_to_open_id_connect_provider(
        OpenIDConnectProviderArn=arn, ClientID="audience-7"
    )


@pytest.mark.moto_canary
def test_canary_plain_moto_has_no_add_client_id_to_oidc_provider(plain_moto):
    """Closed by moto_fixes/iam.py."""
    assert not oidc_audiences_follow(plain_moto)
