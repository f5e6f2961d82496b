"""A drift-aware change set's values, read by their source: Target.BeforeValue is the actual
value only when BeforeValueFrom is ACTUAL_STATE; with PREVIOUS_DEPLOYMENT_STATE it is the last
deployment's ("PREVIOUS_DEPLOYMENT_STATE – The before value represents the previous
CloudFormation deployment state", https://docs.aws.amazon.com/AWSCloudFormation/latest/
APIReference/API_ResourceTargetDefinition.html), and the actual value is Drift.ActualValue or
not known. The local AWS reads every resource it models, so AWS's other answer is stubbed
(botocore's Stubber checks the response against the service model)."""

from __future__ import annotations

import boto3
from botocore.stub import Stubber

from mirror_infra import render
from mirror_infra.aws.cloudformation import CloudFormation
from mirror_infra.deploy.plan import Plan
from mirror_infra.deploy.revert import Drifted

CHANGE_SET = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/cs/1"
STACK = "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1"


def _target(name: str, before: str, after: str, source: str, drift: dict | None = None) -> dict:
    target = {
        "Attribute": "Properties",
        "Name": name,
        "RequiresRecreation": "Never",
        "Path": f"/Properties/{name}",
        "BeforeValue": before,
        "AfterValue": after,
        "BeforeValueFrom": source,
        "AfterValueFrom": "TEMPLATE",
        "AttributeChangeType": "Modify",
    }
    if drift is not None:
        target["Drift"] = drift
    return {"Target": target, "Evaluation": "Static", "ChangeSource": "DirectModification"}


def _described() -> list:
    response = {
        "ChangeSetId": CHANGE_SET,
        "StackId": STACK,
        "Status": "CREATE_COMPLETE",
        "ExecutionStatus": "AVAILABLE",
        "Changes": [
            {
                "Type": "Resource",
                "ResourceChange": {
                    "Action": "Modify",
                    "LogicalResourceId": "AppLogGroup",
                    "ResourceType": "AWS::Logs::LogGroup",
                    "Replacement": "False",
                    "ResourceDriftStatus": "MODIFIED",
                    "Details": [
                        # read from the resource: before is the actual value
                        _target(
                            "RetentionInDays",
                            "7",
                            "30",
                            "ACTUAL_STATE",
                            {"PreviousValue": "30", "ActualValue": "7"},
                        ),
                        # compared with the last deployment: before is that, actual from Drift
                        _target(
                            "KmsKeyId",
                            "key-a",
                            "key-a",
                            "PREVIOUS_DEPLOYMENT_STATE",
                            {"PreviousValue": "key-a", "ActualValue": "key-b"},
                        ),
                        # compared with the last deployment, drifted, actual not given
                        _target(
                            "LogGroupClass",
                            "STANDARD",
                            "STANDARD",
                            "PREVIOUS_DEPLOYMENT_STATE",
                            {"PreviousValue": "STANDARD"},
                        ),
                        # compared with the last deployment, no drift known: a template change
                        _target(
                            "DataProtectionPolicy", "{}", '{"a": 1}', "PREVIOUS_DEPLOYMENT_STATE"
                        ),
                    ],
                },
            }
        ],
    }
    client = boto3.client(
        "cloudformation", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stub:
        stub.add_response(
            "describe_change_set",
            response,
            {"ChangeSetName": CHANGE_SET, "IncludePropertyValues": True},
        )
        (change,) = CloudFormation(client).change_set(CHANGE_SET, values=True).changes
    return list(change.values)


def test_each_value_is_read_from_where_aws_says_it_comes_from():
    retention, key, log_class, policy = _described()
    assert (retention.previous, retention.actual) == ("30", "7")
    # before (key-a) is the last deployment's value here, not the actual one
    assert (key.previous, key.actual, key.before_from) == (
        "key-a",
        "key-b",
        "PREVIOUS_DEPLOYMENT_STATE",
    )
    assert (log_class.previous, log_class.actual) == ("STANDARD", None)  # not read
    assert (policy.previous, policy.actual) == (None, None)  # did not drift; not read


def test_the_plan_shows_a_value_aws_did_not_read_as_not_read(capsys):
    drifted = [
        Drifted("Monitoring.AppLogGroup", v.path, v.template, v.previous, v.actual)
        for v in _described()
        if v.previous is not None
    ]
    plan = Plan("staging", "us-east-1", "s", None, False, [], {}, {}, None, drifted=drifted)
    render.plan(plan)
    lines = capsys.readouterr().out.splitlines()
    (log_class,) = [line for line in lines if "LogGroupClass" in line]
    assert "not read (AWS compared with the last deployment)" in log_class
    (key,) = [line for line in lines if "KmsKeyId" in line]
    assert "key-b" in key and "not read" not in key
