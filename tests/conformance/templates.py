"""Small templates for the conformance suite: resources that are quick and free on AWS, named
by CloudFormation (or after the test's own stack name) so that they never collide."""

from __future__ import annotations

import json


def template(resources: dict, outputs: dict | None = None) -> str:
    body: dict = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}
    if outputs:
        body["Outputs"] = outputs
    return json.dumps(body)


def log_group(retention: int = 1, **extra) -> dict:
    return {
        "Type": "AWS::Logs::LogGroup",
        "Properties": {"RetentionInDays": retention, **extra},
    }


def topic(display_name: str = "conformance", **attributes) -> dict:
    return {
        "Type": "AWS::SNS::Topic",
        "Properties": {"DisplayName": display_name},
        **attributes,
    }


def table(indexed: bool = False, **extra) -> dict:
    """An on-demand table keyed by `pk` (S), named by CloudFormation unless `extra` names it;
    `indexed` adds a global secondary index."""
    attributes = [{"AttributeName": "pk", "AttributeType": "S"}]
    properties: dict = {
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": attributes,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        **extra,
    }
    if indexed:
        attributes.append({"AttributeName": "g", "AttributeType": "S"})
        properties["GlobalSecondaryIndexes"] = [
            {
                "IndexName": "ByG",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ]
    return {"Type": "AWS::DynamoDB::Table", "Properties": properties}


def broken_table(after: str) -> dict:
    """A table DynamoDB refuses at creation: its key attribute has no definition. Template
    syntax is fine, so the failure comes at provisioning, after the resources before it exist."""
    return {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "undefined", "KeyType": "HASH"}],
        },
        "DependsOn": [after],  # created once `after` exists
    }


def nested(url: str, **properties) -> dict:
    return {
        "Type": "AWS::CloudFormation::Stack",
        "Properties": {"TemplateURL": url, **properties},
    }


def fed_by_output(source: str, consumer: str, label: str, **given: str) -> str:
    """A root nesting two stacks: Source (its parameter Label set to `label`), and Consumer,
    whose parameter SourceName is Source's output TopicName (Fn::GetAtt Source.Outputs.TopicName),
    its other parameters `given` as literals."""
    return template(
        {
            "Source": nested(source, Parameters={"Label": label}),
            "Consumer": nested(
                consumer,
                Parameters={
                    "SourceName": {"Fn::GetAtt": ["Source", "Outputs.TopicName"]},
                    **given,
                },
            ),
        }
    )
