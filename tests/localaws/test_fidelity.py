"""The rows of issue 11 that the conformance suite cannot show on its own: what the local AWS
does where AWS's documentation is the judge, each with its canary against plain moto."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from tests.localaws.stacks import TOPIC, TOPIC_OUTPUT, nested_root, put_template, template


def unchanged_nested_stack_row(aws) -> dict | None:
    """A no-op change set on a stack with a nested stack: the nested stack's row, if any."""
    cfn = aws.client("cloudformation")
    url = put_template(aws, "fid-child.json", template(TOPIC, TOPIC_OUTPUT))
    body = nested_root(url, outputs=False)
    try:
        cfn.create_stack(StackName="fid1", TemplateBody=body)
        made = cfn.create_change_set(
            StackName="fid1", ChangeSetName="same", TemplateBody=body, IncludeNestedStacks=True
        )
        described = cfn.describe_change_set(ChangeSetName=made["Id"])
    except (ClientError, BotoCoreError):
        return None
    rows = [c["ResourceChange"] for c in described.get("Changes", [])]
    return rows[0] if rows else None


def test_an_unchanged_nested_stack_is_an_automatic_modify_row_with_an_empty_change_set(
    local_aws,
):
    """API_ResourceChangeDetail: "If you made no changes to the AWS::CloudFormation::Stack
    resource, CloudFormation sets the ChangeSource to Automatic because the nested stack's
    template might have changed." """
    row = unchanged_nested_stack_row(local_aws)
    assert (row["Action"], row["LogicalResourceId"]) == ("Modify", "Child")
    assert [d["ChangeSource"] for d in row["Details"]] == ["Automatic"]
    nested = local_aws.client("cloudformation").describe_change_set(
        ChangeSetName=row["ChangeSetId"]
    )
    assert (nested["Status"], nested["Changes"]) == ("CREATE_COMPLETE", [])


@pytest.mark.moto_canary
def test_canary_plain_moto_has_no_automatic_row_for_an_unchanged_nested_stack(plain_moto):
    """Closed by cfn/change_set_computation.py (_modify_row). Plain moto lists it as an Add."""
    row = unchanged_nested_stack_row(plain_moto) or {}
    assert row.get("Action") != "Modify"


def _wait(cfn, stack_id: str) -> str:
    import time

    deadline = time.monotonic() + 30
    while True:
        status = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"]
        if not status.endswith("_IN_PROGRESS") or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


def test_on_failure_delete_removes_the_failed_stack(local_aws):
    """API_CreateStack OnFailure DELETE: a failed create is rolled back and the stack deleted."""
    cfn = local_aws.client("cloudformation")
    local_aws.settings(fail_create=["Late"])
    body = template({**TOPIC, "Late": {"Type": "AWS::SNS::Topic"}})
    stack_id = cfn.create_stack(StackName="fid2", TemplateBody=body, OnFailure="DELETE")["StackId"]
    assert _wait(cfn, stack_id) == "DELETE_COMPLETE"
    assert local_aws.client("sns").list_topics()["Topics"] == []


def test_execute_with_retain_except_on_create_deletes_retain_resources_of_a_failed_create(
    local_aws,
):
    """API_ExecuteChangeSet RetainExceptOnCreate: "This deletion policy deletes newly created
    resources, but retains existing resources, when a stack operation is rolled back." — the
    failure comes late, after the Retain topic exists (fault switch)."""
    cfn = local_aws.client("cloudformation")
    local_aws.settings(fail_create=["Late"])
    kept = {"Topic": {**TOPIC["Topic"], "DeletionPolicy": "Retain"}}
    body = template({**kept, "Late": {"Type": "AWS::SNS::Topic", "DependsOn": "Topic"}})
    made = cfn.create_change_set(
        StackName="fid3", ChangeSetName="c", ChangeSetType="CREATE", TemplateBody=body
    )
    cfn.execute_change_set(ChangeSetName=made["Id"], RetainExceptOnCreate=True)
    assert _wait(cfn, "fid3") == "ROLLBACK_COMPLETE"
    assert local_aws.client("sns").list_topics()["Topics"] == []


def unknown_deletion_policy_refused(aws) -> bool:
    body = template({"Topic": {**TOPIC["Topic"], "DeletionPolicy": "Keep"}})
    try:
        aws.client("cloudformation").create_stack(StackName="fid4", TemplateBody=body)
    except ClientError as exc:
        return exc.response["Error"]["Code"] == "ValidationError"
    return False


def test_an_unknown_deletion_policy_is_refused(local_aws):
    assert unknown_deletion_policy_refused(local_aws)


@pytest.mark.moto_canary
def test_canary_plain_moto_accepts_any_deletion_policy(plain_moto):
    """Closed by cfn/loading.py (load, _POLICIES)."""
    assert not unknown_deletion_policy_refused(plain_moto)


def dashboard_seen_from_another_region(aws) -> bool:
    aws.client("cloudwatch", "eu-west-1").put_dashboard(
        DashboardName="fid-global", DashboardBody='{"widgets": []}'
    )
    try:
        aws.client("cloudwatch", "us-east-1").get_dashboard(DashboardName="fid-global")
    except ClientError:
        return False
    return True


def test_dashboards_are_account_global(local_aws):
    """CloudWatch_Dashboards.html: "All dashboards in your account are global, not
    region-specific." """
    assert dashboard_seen_from_another_region(local_aws)
    local_aws.client("cloudwatch", "us-west-2").delete_dashboards(DashboardNames=["fid-global"])
    names = local_aws.client("cloudwatch", "eu-west-1").list_dashboards()["DashboardEntries"]
    assert names == []


@pytest.mark.moto_canary
def test_canary_plain_moto_keeps_dashboards_per_region(plain_moto):
    """Closed by moto_fixes/cloudwatch.py."""
    assert not dashboard_seen_from_another_region(plain_moto)


def first_events_page(aws) -> dict:
    resources = {f"Topic{i}": {"Type": "AWS::SNS::Topic"} for i in range(40)}
    cfn = aws.client("cloudformation")
    cfn.create_stack(StackName="fid5", TemplateBody=template(resources))
    return cfn.describe_stack_events(StackName="fid5")


def test_stack_events_come_in_pages_and_the_paginator_reads_them_all(local_aws):
    first = first_events_page(local_aws)
    assert len(first["StackEvents"]) == 100
    cfn = local_aws.client("cloudformation")
    pages = list(cfn.get_paginator("describe_stack_events").paginate(StackName="fid5"))
    events = [e["EventId"] for p in pages for e in p["StackEvents"]]
    assert len(pages) == 2
    assert len(events) == len(set(events)) == 122  # 40 x 3 and the stack's own two


@pytest.mark.moto_canary
def test_canary_plain_moto_answers_all_events_in_one_page(plain_moto):
    """Closed by cfn/api/resources.py (describe_stack_events)."""
    first = first_events_page(plain_moto)
    assert "NextToken" not in first


def _table(attribute_type: str) -> dict:
    return {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "TableName": "fid-keys",
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": attribute_type}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        },
    }


def key_type_change_fails(aws) -> bool:
    cfn = aws.client("cloudformation")
    cfn.create_stack(StackName="fid6", TemplateBody=template({"Table": _table("S")}))
    try:
        cfn.update_stack(StackName="fid6", TemplateBody=template({"Table": _table("N")}))
    except ClientError:
        return False
    status = _wait(cfn, "fid6")
    table = aws.client("dynamodb").describe_table(TableName="fid-keys")["Table"]
    return status == "UPDATE_ROLLBACK_COMPLETE" and table["AttributeDefinitions"] == [
        {"AttributeName": "pk", "AttributeType": "S"}
    ]


def test_changing_the_type_of_a_key_attribute_fails_the_update(local_aws):
    """DynamoDB's UpdateTable cannot change a key attribute's type (AttributeDefinitions may
    only add attributes for new indexes, API_UpdateTable): the update fails and rolls back."""
    assert key_type_change_fails(local_aws)


@pytest.mark.moto_canary
def test_canary_plain_moto_ignores_a_key_type_change(plain_moto):
    """Closed by providers/dynamodb.py (_refuse_key_changes)."""
    assert not key_type_change_fails(plain_moto)


def bad_stack_name_refused(aws) -> bool:
    try:
        aws.client("cloudformation").create_stack(
            StackName="under_score", TemplateBody=template(TOPIC)
        )
    except ClientError as exc:
        return exc.response["Error"]["Code"] == "ValidationError"
    return False


def test_stack_names_and_template_size_are_checked(local_aws):
    """API_CreateStack StackName pattern and 128 characters; 51,200-byte TemplateBody
    (cloudformation-limits.html)."""
    assert bad_stack_name_refused(local_aws)
    cfn = local_aws.client("cloudformation")
    body = template(TOPIC)
    with pytest.raises(ClientError, match="51200"):
        cfn.create_stack(StackName="fid7", TemplateBody=body[:-1] + " " * 51_200 + "}")
    cfn.create_stack(StackName="f" * 128, TemplateBody=body)  # the longest name is fine


@pytest.mark.moto_canary
def test_canary_plain_moto_accepts_any_stack_name(plain_moto):
    """Closed by cfn/api/common.py (check_stack_name)."""
    assert not bad_stack_name_refused(plain_moto)


def test_a_nested_template_needing_iam_fails_without_capabilities(local_aws):
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}},
    }
    url = put_template(local_aws, "fid-iam.json", template({"Role": role}))
    cfn = local_aws.client("cloudformation")
    cfn.create_stack(StackName="fid8", TemplateBody=nested_root(url, outputs=False))
    assert _wait(cfn, "fid8") == "ROLLBACK_COMPLETE"
    reasons = [
        e.get("ResourceStatusReason", "")
        for e in cfn.describe_stack_events(StackName="fid8")["StackEvents"]
        if e["LogicalResourceId"] == "Child" and e["ResourceStatus"] == "CREATE_FAILED"
    ]
    assert reasons == ["Requires capabilities : [CAPABILITY_IAM]"]
    assert local_aws.client("iam").list_roles()["Roles"] == []


def decrypt_fails_under_unusable_key(aws) -> bool:
    kms, ssm = aws.client("kms"), aws.client("ssm")
    disabled = kms.create_key()["KeyMetadata"]["KeyId"]
    pending = kms.create_key()["KeyMetadata"]
    ssm.put_parameter(Name="/fid/a", Value="x", Type="SecureString", KeyId=disabled)
    ssm.put_parameter(Name="/fid/b", Value="y", Type="SecureString", KeyId=pending["Arn"])
    kms.disable_key(KeyId=disabled)
    kms.schedule_key_deletion(KeyId=pending["KeyId"], PendingWindowInDays=7)
    codes = []
    for call in (
        lambda: ssm.get_parameter(Name="/fid/a", WithDecryption=True),
        lambda: ssm.get_parameters(Names=["/fid/b"], WithDecryption=True),
        lambda: ssm.get_parameters_by_path(Path="/fid", WithDecryption=True),
    ):
        try:
            call()
        except ClientError as exc:
            codes.append(exc.response["Error"]["Code"])
    return codes == ["InvalidKeyId"] * 3


def test_a_secure_string_under_a_disabled_or_deleted_key_cannot_be_read(local_aws):
    """KMS key states: a disabled or pending-deletion key cannot be used in cryptographic
    operations, so SSM cannot decrypt (InvalidKeyId, API_GetParameter)."""
    assert decrypt_fails_under_unusable_key(local_aws)
    ssm = local_aws.client("ssm")
    assert ssm.get_parameter(Name="/fid/a")["Parameter"]["Type"] == "SecureString"  # no decrypt


@pytest.mark.moto_canary
def test_canary_plain_moto_decrypts_under_any_key(plain_moto):
    """Closed by moto_fixes/ssm.py."""
    assert not decrypt_fails_under_unusable_key(plain_moto)


def write_fails_under_unknown_or_unusable_key(aws) -> bool:
    """PutParameter of a SecureString under a key KMS does not know, or one pending deletion:
    InvalidKeyId both times (API_PutParameter), nothing written."""
    kms, ssm = aws.client("kms"), aws.client("ssm")
    pending = kms.create_key()["KeyMetadata"]
    kms.schedule_key_deletion(KeyId=pending["KeyId"], PendingWindowInDays=7)
    unknown = f"arn:aws:kms:us-east-1:123456789012:key/{uuid.uuid4()}"
    codes = []
    for name, key in (
        ("/fidw/a", unknown),
        ("/fidw/b", "alias/fid-nope"),
        ("/fidw/c", pending["Arn"]),
    ):
        try:
            ssm.put_parameter(Name=name, Value="x", Type="SecureString", KeyId=key)
        except ClientError as exc:
            codes.append(exc.response["Error"]["Code"])
    written = ssm.get_parameters_by_path(Path="/fidw")["Parameters"]
    return codes == ["InvalidKeyId"] * 3 and written == []


def test_a_secure_string_cannot_be_written_under_a_key_kms_cannot_use(local_aws):
    """What apply's nonce write waits out after an express create (mirror_infra/aws/storage.py):
    a key KMS does not know (yet) is InvalidKeyId, naming KMS's NotFoundException."""
    assert write_fails_under_unknown_or_unusable_key(local_aws)
    ssm = local_aws.client("ssm")
    key = local_aws.client("kms").create_key()["KeyMetadata"]["Arn"]
    ssm.put_parameter(Name="/fidw/ok", Value="x", Type="SecureString", KeyId=key)
    ssm.put_parameter(Name="/fidw/default", Value="x", Type="SecureString")  # alias/aws/ssm
    with pytest.raises(ClientError, match="does not exist .*NotFoundException"):
        other = f"{key.rsplit('/', 1)[0]}/{uuid.uuid4()}"  # this account's and region's form
        ssm.put_parameter(Name="/fidw/x", Value="x", Type="SecureString", KeyId=other)


@pytest.mark.moto_canary
def test_canary_plain_moto_writes_under_any_key(plain_moto):
    """Closed by moto_fixes/ssm.py."""
    assert not write_fails_under_unknown_or_unusable_key(plain_moto)


@pytest.mark.parametrize(
    ("parameters", "resource_properties", "outputs", "named"),
    [
        ({}, {"TopicName": {"Fn::ImportValue": "shared-name"}}, None, "Fn::ImportValue"),
        ({}, {"TopicName": {"Fn::Select": [0, {"Fn::GetAZs": ""}]}}, None, "Fn::GetAZs"),
        (
            {},
            {"TopicName": {"Fn::Select": [0, {"Fn::Cidr": ["10.0.0.0/16", 2, 8]}]}},
            None,
            "Fn::Cidr",
        ),
        ({}, {}, {"Arn": {"Value": {"Ref": "Topic"}, "Export": {"Name": "x"}}}, "Export"),
        (
            {"Latest": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/x"}},
            {},
            None,
            "AWS::SSM::Parameter::Value<String>",
        ),
    ],
)
def test_features_the_local_aws_does_not_model_are_refused(
    local_aws, parameters, resource_properties, outputs, named
):
    body = {
        "Parameters": parameters,
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": resource_properties}},
    }
    if outputs:
        body["Outputs"] = outputs
    import json

    with pytest.raises(ClientError) as raised:
        local_aws.client("cloudformation").create_stack(
            StackName="fid9", TemplateBody=json.dumps(body)
        )
    message = raised.value.response["Error"]["Message"]
    assert named in message
    assert "not supported by the local AWS" in message


def schema_error_fails_the_change_set(aws) -> bool:
    table = {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "Unknown": "x",
        },
    }
    cfn = aws.client("cloudformation")
    try:
        made = cfn.create_change_set(
            StackName="fid10",
            ChangeSetName="c",
            ChangeSetType="CREATE",
            TemplateBody=template({"Table": table}),
        )
    except ClientError:
        return False  # refused outright: not how AWS reports it
    return cfn.describe_change_set(ChangeSetName=made["Id"])["Status"] == "FAILED"


def test_pre_deployment_validation_reads_the_schema(local_aws):
    """validate-stack-deployments.html: property syntax validation against resource schemas,
    FAIL mode; the paths point into the template."""
    assert schema_error_fails_the_change_set(local_aws)
    cfn = local_aws.client("cloudformation")
    events = cfn.describe_events(ChangeSetName="c", StackName="fid10")["OperationEvents"]
    assert sorted((e["ValidationPath"], e["ValidationFailureMode"]) for e in events) == [
        ("/Resources/Table/Properties", "FAIL"),  # KeySchema is required
        ("/Resources/Table/Properties/Unknown", "FAIL"),
    ]


@pytest.mark.moto_canary
def test_canary_plain_moto_does_not_validate_change_sets(plain_moto):
    """Closed by cfn/validation.py."""
    assert not schema_error_fails_the_change_set(plain_moto)


def test_two_simultaneous_executions_never_both_run(local_aws):
    """API_ExecuteChangeSet: InvalidChangeSetStatus when "the stack status might be
    UPDATE_IN_PROGRESS" — even in instant mode, where each execution ends within its call,
    two calls racing each other never both execute (moto interleaved them)."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.localaws.stacks import alarm

    cfn = local_aws.client("cloudformation")
    cfn.create_stack(StackName="fid11", TemplateBody=template({"Alarm": alarm(10)}))
    ids = [
        cfn.create_change_set(
            StackName="fid11",
            ChangeSetName=f"t{threshold}",
            TemplateBody=template({"Alarm": alarm(threshold)}),
        )["Id"]
        for threshold in (20, 30)
    ]

    def execute(change_set_id: str) -> str:
        try:
            cfn.execute_change_set(ChangeSetName=change_set_id)
        except ClientError as exc:
            return exc.response["Error"]["Code"]
        return "ran"

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(execute, ids))
    assert outcomes.count("ran") == 1
    assert _wait(cfn, "fid11") == "UPDATE_COMPLETE"
    alarms = local_aws.client("cloudwatch").describe_alarms(AlarmNames=["gap-alarm"])
    assert alarms["MetricAlarms"][0]["Threshold"] == (20 if outcomes[0] == "ran" else 30)
