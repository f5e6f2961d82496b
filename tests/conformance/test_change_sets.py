"""Change sets, nested stacks, drift and account-global names as the AWS CloudFormation
documentation describes them. Every expected value is transcribed from the page cited in its
test's docstring."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.conformance.conftest import CAPS
from tests.conformance.templates import log_group, nested, template, topic

CHILD_OUTPUTS = {"TopicArn": {"Value": {"Ref": "Topic"}}}


def _change_set(target, stack: str, body: str, kind: str = "UPDATE", name: str = "c1") -> dict:
    made = target.client("cloudformation").create_change_set(
        StackName=stack,
        ChangeSetName=name,
        ChangeSetType=kind,
        TemplateBody=body,
        Capabilities=CAPS,
        IncludeNestedStacks=True,
    )
    return target.change_set(made["Id"])


def _create(target, stack: str, body: str) -> dict:
    return target.create(stack, body)


def _rows(described: dict) -> dict[str, dict]:
    return {
        c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"] for c in described["Changes"]
    }


def test_nested_stack_outputs_through_get_att(target, stacks, artifacts):
    """AWS::CloudFormation::Stack, Fn::GetAtt "Outputs.NestedStackOutputName: The output value
    from the specified nested stack where NestedStackOutputName is the name of the output
    value." (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudformation-stack.html)
    — here on a stack created through a change set."""
    url = artifacts.put(template({"Topic": topic()}, CHILD_OUTPUTS))
    name = stacks.name()
    parent = template(
        {"Child": nested(url)},
        {"ChildTopic": {"Value": {"Fn::GetAtt": ["Child", "Outputs.TopicArn"]}}},
    )
    described = _change_set(target, name, parent, kind="CREATE")
    target.client("cloudformation").execute_change_set(ChangeSetName=described["ChangeSetId"])
    stack = target.settle(name)
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    (output,) = stack["Outputs"]
    assert output["OutputKey"] == "ChildTopic"
    assert output["OutputValue"].startswith("arn:")


def test_a_change_set_without_changes_fails_and_says_so(target, stacks):
    """A change set whose template and parameters match the stack ends with Status FAILED and
    ExecutionStatus UNAVAILABLE (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeChangeSet.html);
    its StatusReason, "The submitted information didn't contain changes. Submit different
    information to create a change set.", is AWS's own answer (the table of real AWS messages
    in tests/test_aws_errors.py)."""
    name = stacks.name()
    body = template({"Topic": topic()})
    _create(target, name, body)
    described = _change_set(target, name, body)
    assert described["Status"] == "FAILED"
    assert "didn't contain changes" in described["StatusReason"]
    assert described["ExecutionStatus"] == "UNAVAILABLE"


def test_replacement_follows_each_property_update_behaviour(target, stacks):
    """AWS::Logs::LogGroup: LogGroupName "Update requires: Replacement", RetentionInDays
    "Update requires: No interruption"
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-logs-loggroup.html);
    ResourceChange.Replacement True / False, ResourceTargetDefinition.RequiresRecreation
    Always / Never (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ResourceChange.html)."""
    name = stacks.name()
    _create(target, name, template({"Renamed": log_group(1), "Kept": log_group(1)}))
    changed = template(
        {"Renamed": log_group(1, LogGroupName=f"/{name}/renamed"), "Kept": log_group(3)}
    )
    rows = _rows(_change_set(target, name, changed))
    assert (rows["Renamed"]["Action"], rows["Renamed"]["Replacement"]) == ("Modify", "True")
    (detail,) = rows["Renamed"]["Details"]
    assert detail["Target"] == {
        "Attribute": "Properties",
        "Name": "LogGroupName",
        "RequiresRecreation": "Always",
    }
    assert (rows["Kept"]["Action"], rows["Kept"]["Replacement"]) == ("Modify", "False")
    (detail,) = rows["Kept"]["Details"]
    assert detail["Target"]["RequiresRecreation"] == "Never"


def test_unchanged_nested_stacks_show_as_automatic_modify_rows(target, stacks, artifacts):
    """ResourceChangeDetail.ChangeSource Automatic: "Automatic entities are
    AWS::CloudFormation::Stack resource types, which are also known as nested stacks. If you
    made no changes to the AWS::CloudFormation::Stack resource, CloudFormation sets the
    ChangeSource to Automatic because the nested stack's template might have changed."
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ResourceChangeDetail.html)
    """
    url = artifacts.put(template({"Topic": topic()}, CHILD_OUTPUTS))
    name = stacks.name()
    _create(target, name, template({"Child": nested(url)}))
    more = template({"Child": nested(url), "Extra": topic()})
    rows = _rows(_change_set(target, name, more))
    assert rows["Extra"]["Action"] == "Add"
    assert rows["Child"]["Action"] == "Modify"
    assert "Automatic" in [d.get("ChangeSource") for d in rows["Child"]["Details"]]


def test_only_one_of_two_executions_runs(target, stacks):
    """ExecuteChangeSet fails with InvalidChangeSetStatus when "the change set status might be
    CREATE_IN_PROGRESS, or the stack status might be UPDATE_IN_PROGRESS"
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ExecuteChangeSet.html)."""
    name = stacks.name()
    cfn = target.client("cloudformation")
    _create(target, name, template({"Logs": log_group(1)}))
    first = _change_set(target, name, template({"Logs": log_group(3)}), name="first")
    second = _change_set(target, name, template({"Logs": log_group(5)}), name="second")
    with target.slow():
        cfn.execute_change_set(ChangeSetName=first["ChangeSetId"])
        with pytest.raises(ClientError) as raised:
            cfn.execute_change_set(ChangeSetName=second["ChangeSetId"])
        assert raised.value.response["Error"]["Code"] == "InvalidChangeSetStatus"
        assert target.settle(name)["StackStatus"] == "UPDATE_COMPLETE"


def test_change_sets_made_before_an_update_are_obsolete(target, stacks):
    """ChangeSetSummary.ExecutionStatus: "a change set might be ... in an OBSOLETE state
    because the stack was already updated"
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ChangeSetSummary.html);
    such a change set cannot be executed (InvalidChangeSetStatus, API_ExecuteChangeSet)."""
    name = stacks.name()
    cfn = target.client("cloudformation")
    _create(target, name, template({"Logs": log_group(1)}))
    stale = _change_set(target, name, template({"Logs": log_group(3)}))
    cfn.update_stack(StackName=name, TemplateBody=template({"Logs": log_group(5)}))
    assert target.settle(name)["StackStatus"] == "UPDATE_COMPLETE"
    described = cfn.describe_change_set(ChangeSetName=stale["ChangeSetId"])
    assert described["ExecutionStatus"] == "OBSOLETE"
    with pytest.raises(ClientError) as raised:
        cfn.execute_change_set(ChangeSetName=stale["ChangeSetId"])
    assert raised.value.response["Error"]["Code"] == "InvalidChangeSetStatus"


def test_capabilities_are_required_for_iam_inside_nested_templates(target, stacks, artifacts):
    """Capabilities: a template with IAM resources needs CAPABILITY_IAM or
    CAPABILITY_NAMED_IAM ("If you have IAM resources, you can specify either capability."),
    and a nested stack is created with the capabilities its root stack was given
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html):
    the role is never created — refused at once, or the nested stack fails and the root rolls
    back."""
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        },
    }
    url = artifacts.put(template({"Role": role}))
    name = stacks.name()
    cfn = target.client("cloudformation")
    try:
        cfn.create_stack(StackName=name, TemplateBody=template({"Child": nested(url)}))
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "InsufficientCapabilitiesException"
        return
    assert target.settle(name)["StackStatus"] == "ROLLBACK_COMPLETE"


def test_drift_detection_finds_a_modified_and_a_deleted_resource(target, stacks):
    """StackResourceDriftStatus MODIFIED / DELETED; PropertyDifference with PropertyPath,
    ExpectedValue, ActualValue and DifferenceType NOT_EQUAL
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_StackResourceDrift.html,
    https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_PropertyDifference.html)."""
    import time

    name = stacks.name()
    cfn = target.client("cloudformation")
    _create(target, name, template({"Changed": log_group(7), "Gone": log_group(7)}))
    resources = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(StackName=name)["StackResources"]
    }
    logs = target.client("logs")
    logs.put_retention_policy(logGroupName=resources["Changed"], retentionInDays=14)
    logs.delete_log_group(logGroupName=resources["Gone"])
    detection = cfn.detect_stack_drift(StackName=name)["StackDriftDetectionId"]
    while True:
        status = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection)
        if status["DetectionStatus"] != "DETECTION_IN_PROGRESS":
            break
        time.sleep(target.poll)
    assert (status["DetectionStatus"], status["StackDriftStatus"]) == (
        "DETECTION_COMPLETE",
        "DRIFTED",
    )
    drifts = {
        d["LogicalResourceId"]: d
        for d in cfn.describe_stack_resource_drifts(StackName=name)["StackResourceDrifts"]
    }
    assert drifts["Gone"]["StackResourceDriftStatus"] == "DELETED"
    assert drifts["Changed"]["StackResourceDriftStatus"] == "MODIFIED"
    assert drifts["Changed"]["PropertyDifferences"] == [
        {
            "PropertyPath": "/RetentionInDays",
            "ExpectedValue": "7",
            "ActualValue": "14",
            "DifferenceType": "NOT_EQUAL",
        }
    ]


def test_dashboards_are_account_global(target, stacks):
    """ "All dashboards in your account are global, not region-specific."
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Dashboards.html)
    """
    name = stacks.name()
    body = json.dumps({"widgets": []})
    dashboard = {
        "Type": "AWS::CloudWatch::Dashboard",
        "Properties": {"DashboardName": name, "DashboardBody": body},
    }
    _create(target, name, template({"Dashboard": dashboard}))
    other = "us-west-2" if target.region != "us-west-2" else "us-east-1"
    found = target.client("cloudwatch", other).get_dashboard(DashboardName=name)
    assert found["DashboardName"] == name


def test_kms_key_spec_cannot_change_in_an_update(target, stacks):
    """AWS::KMS::Key: "If you change the value of the KeySpec property on an existing KMS
    key, the update request fails, regardless of the value of the UpdateReplacePolicy
    attribute." — the same for KeyUsage
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-kms-key.html).
    On a real account the key is scheduled for deletion when the stack goes, after the
    7-day minimum (PendingWindowInDays 7): it cannot be deleted sooner."""
    name = stacks.name()
    cfn = target.client("cloudformation")

    def key(spec: str, usage: str) -> dict:
        return {
            "Type": "AWS::KMS::Key",
            "Properties": {"KeySpec": spec, "KeyUsage": usage, "PendingWindowInDays": 7},
        }

    _create(target, name, template({"Key": key("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")}))
    cfn.update_stack(StackName=name, TemplateBody=template({"Key": key("RSA_2048", "SIGN_VERIFY")}))
    assert target.settle(name)["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    key_id = cfn.describe_stack_resources(StackName=name)["StackResources"][0]["PhysicalResourceId"]
    metadata = target.client("kms").describe_key(KeyId=key_id)["KeyMetadata"]
    assert (metadata["KeySpec"], metadata["KeyUsage"]) == ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")
