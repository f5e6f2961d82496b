"""Ops alerts: the application log group and its metric filters, the SNS topic, the alarms and
the dashboard."""

from __future__ import annotations

import json

from awacs import sns as asns
from awacs.aws import (
    Allow,
    ArnLike,
    Bool,
    Condition,
    Deny,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
)
from troposphere import Equals, GetAtt, If, Not, NoValue, Ref, Sub, Template, logs
from troposphere import cloudwatch as cw
from troposphere import sns as tsns

from mirror_infra import contract
from mirror_infra.config import EnvConfig
from mirror_infra.contract import APP_METRICS, CIRCUIT_BREAKER, PERIOD, SSM_FAILURES
from mirror_infra.names import REGION_VAR
from templates_src.common import (
    key_arn_parameter,
    new_template,
    output,
    protect,
    string_parameter,
    tags,
)


def topic_policy(topic: tsns.Topic) -> PolicyDocument:
    """CloudWatch alarms of this account may publish; nobody may publish without TLS."""
    return PolicyDocument(
        Version="2012-10-17",
        Statement=[
            Statement(
                Sid="AlarmsOfThisAccountPublish",
                Effect=Allow,
                Principal=Principal("Service", "cloudwatch.amazonaws.com"),
                Action=[asns.Publish],
                Resource=[Ref(topic)],
                Condition=Condition(
                    [
                        StringEquals({"aws:SourceAccount": Ref("AWS::AccountId")}),
                        ArnLike(
                            {
                                "aws:SourceArn": Sub(
                                    "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:"
                                    "${AWS::AccountId}:alarm:*"
                                )
                            }
                        ),
                    ]
                ),
            ),
            Statement(
                Sid="DenyPublishWithoutTLS",
                Effect=Deny,
                Principal=Principal("*"),
                Action=[asns.Publish],
                Resource=[Ref(topic)],
                Condition=Condition(Bool({"aws:SecureTransport": "false"})),
            ),
        ],
    )


def dashboard_body(cfg: EnvConfig) -> str:
    """The dashboard JSON; `${AWS::Region}` is left for Fn::Sub."""
    names = cfg.names
    region = "${AWS::Region}"

    def widget(title: str, metrics: list[list], y: int, x: int, stat: str = "Sum") -> dict:
        return {
            "type": "metric",
            "x": x,
            "y": y,
            "width": 12,
            "height": 6,
            "properties": {
                "title": title,
                "region": region,
                "stat": stat,
                "period": PERIOD,
                "view": "timeSeries",
                "metrics": metrics,
            },
        }

    # resolved by Fn::Sub from the stack's table-name parameters
    tables = [f"${{{spec.logical_id}Name}}" for spec in contract.TABLES]
    capacity = [
        ["AWS/DynamoDB", metric, "TableName", table]
        for table in tables
        for metric in ("ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits")
    ]
    throttles = [
        ["AWS/DynamoDB", metric, "TableName", table]
        for table in tables
        for metric in ("ReadThrottleEvents", "WriteThrottleEvents")
    ]
    body = {
        "widgets": [
            widget("DynamoDB capacity usage", capacity, 0, 0),
            widget("DynamoDB throttling", throttles, 0, 12),
            widget(
                "SSM parameter failures", [[names.metric_namespace, SSM_FAILURES.metric_name]], 6, 0
            ),
            widget(
                "Circuit breaker events",
                [[names.metric_namespace, CIRCUIT_BREAKER.metric_name]],
                6,
                12,
            ),
        ]
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def template(cfg: EnvConfig) -> Template:
    names = cfg.names
    t = new_template(cfg, "monitoring: log group, SNS ops alerts, alarms, dashboard")
    key_arn = key_arn_parameter(t)
    email = string_parameter(
        t,
        "AlertEmail",
        "Email address subscribed to ops alerts; empty for none",
        Default="",
        AllowedPattern=r"^$|^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$",
    )
    table_params = {
        spec.logical_id: string_parameter(
            t, f"{spec.logical_id}Name", f"Name of the {spec.suffix} table"
        )
        for spec in contract.TABLES
    }
    t.add_condition("HasAlertEmail", Not(Equals(Ref(email), "")))

    log_group = t.add_resource(
        protect(
            cfg,
            logs.LogGroup(
                "AppLogGroup",
                LogGroupName=names.log_group,
                KmsKeyId=Ref(key_arn),
                RetentionInDays=cfg.log_retention_days,
                Tags=tags(cfg),
            ),
        )
    )
    for metric in APP_METRICS:
        t.add_resource(
            logs.MetricFilter(
                metric.logical_id,
                LogGroupName=Ref(log_group),
                FilterPattern=f'{{ $.event = "{metric.event}" }}',
                MetricTransformations=[
                    logs.MetricTransformation(
                        MetricNamespace=names.metric_namespace,
                        MetricName=metric.metric_name,
                        MetricValue="1",
                        Unit="Count",
                    )
                ],
            )
        )

    topic = t.add_resource(
        tsns.Topic(
            "OpsAlertsTopic",
            TopicName=names.topic,
            DisplayName=f"Phase Mirror {cfg.name} ops alerts",
            KmsMasterKeyId=Ref(key_arn),
            Tags=tags(cfg),
        )
    )
    t.add_resource(
        tsns.TopicPolicy(
            "OpsAlertsTopicPolicy", Topics=[Ref(topic)], PolicyDocument=topic_policy(topic)
        )
    )
    t.add_resource(
        tsns.SubscriptionResource(
            "OpsAlertsEmailSubscription",
            Condition="HasAlertEmail",
            TopicArn=Ref(topic),
            Protocol="email",
            Endpoint=Ref(email),
        )
    )

    for spec in contract.ALARMS:
        app = spec.namespace == "app"
        t.add_resource(
            cw.Alarm(
                spec.logical_id,
                AlarmName=names.alarm(spec.suffix),
                AlarmDescription=spec.description,
                Namespace=names.metric_namespace if app else spec.namespace,
                MetricName=spec.metric,
                Dimensions=NoValue
                if app
                else [
                    cw.MetricDimension(
                        Name="TableName", Value=Ref(table_params[spec.table_logical_id])
                    )
                ],
                Statistic="Sum",
                Period=PERIOD,
                EvaluationPeriods=1,
                Threshold=spec.threshold,
                ComparisonOperator=spec.operator,
                TreatMissingData="notBreaching",
                AlarmActions=[Ref(topic)],
                OKActions=[Ref(topic)],
            )
        )

    dashboard = t.add_resource(
        cw.Dashboard(
            "Dashboard",
            DashboardName=Sub(names.dashboard(REGION_VAR)),
            DashboardBody=Sub(dashboard_body(cfg)),
        )
    )
    output(t, "TopicArn", Ref(topic), "ARN of the ops-alerts topic")
    output(t, "DashboardName", Ref(dashboard), "Name of the CloudWatch dashboard")
    output(t, "LogGroupName", Ref(log_group), "Name of the application log group")
    output(t, "LogGroupArn", GetAtt(log_group, "Arn"), "ARN of the application log group")
    output(
        t,
        "EmailSubscription",
        If("HasAlertEmail", Ref(email), "none"),
        "Email subscribed to ops alerts",
    )
    return t
