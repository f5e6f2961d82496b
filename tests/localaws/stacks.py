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
