"""Small templates the local AWS's tests (and the deployer's that need a stack of their own)
build their stacks from."""

from __future__ import annotations

import json


def template(resources: dict, outputs: dict | None = None, parameters: dict | None = None) -> str:
    body: dict = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}
    if outputs:
        body["Outputs"] = outputs
    if parameters:
        body["Parameters"] = parameters
    return json.dumps(body)


TOPIC = {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "gap-topic"}}}
TOPIC_OUTPUT = {"TopicArn": {"Value": {"Ref": "Topic"}}}


def table(name: str = "gap-table", **extra) -> dict:
    return {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "TableName": name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            **extra,
        },
    }


def alarm(threshold: int = 10, name: str = "gap-alarm") -> dict:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": name,
            "MetricName": "Errors",
            "Namespace": "Gap",
            "Statistic": "Sum",
            "Period": 300,
            "EvaluationPeriods": 1,
            "Threshold": threshold,
            "ComparisonOperator": "GreaterThanThreshold",
        },
    }


def put_template(aws, key: str, body: str) -> str:
    s3 = aws.client("s3")
    if "gap-artifacts" not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
        s3.create_bucket(Bucket="gap-artifacts")
    s3.put_object(Bucket="gap-artifacts", Key=key, Body=body.encode())
    return f"https://gap-artifacts.s3.us-east-1.amazonaws.com/{key}"


def nested_root(url: str, outputs: bool = True) -> str:
    return template(
        {"Child": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": url}}},
        {"ChildTopic": {"Value": {"Fn::GetAtt": ["Child", "Outputs.TopicArn"]}}}
        if outputs
        else None,
    )


def two_alarms(first: int, second: int) -> str:
    """Two alarms, the second depending on the first (for failed updates and rollbacks)."""
    resources = {"First": alarm(first, name="first"), "Second": alarm(second, name="second")}
    resources["Second"]["DependsOn"] = "First"
    return template(resources)


def stuck_in_rollback(local_aws, stack_name: str) -> None:
    """Leave a deployed root `UPDATE_ROLLBACK_FAILED`, as a failing update made outside the tool
    would: two alarms added by direct updates of its deployed template, the second failing to
    create and the first failing to roll back (the local AWS's fault switch)."""
    cfn = local_aws.client("cloudformation")
    body = cfn.get_template(StackName=stack_name)["TemplateBody"]
    body = body if isinstance(body, dict) else json.loads(body)
    previous = [{"ParameterKey": k, "UsePreviousValue": True} for k in body.get("Parameters", {})]

    def update(first: int, second: int | None) -> None:
        resources = {**body["Resources"], "First": alarm(first, name="first")}
        if second is not None:
            resources["Second"] = {**alarm(second, name="second"), "DependsOn": "First"}
        cfn.update_stack(
            StackName=stack_name,
            TemplateBody=json.dumps({**body, "Resources": resources}),
            Parameters=previous,
            Capabilities=["CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        )

    update(10, None)
    local_aws.settings(fail_create=["Second"], fail_rollback=["First"])
    update(20, 20)
    local_aws.settings(fail_create=[], fail_rollback=[])
    (stuck,) = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    assert stuck["StackStatus"] == "UPDATE_ROLLBACK_FAILED", stuck
