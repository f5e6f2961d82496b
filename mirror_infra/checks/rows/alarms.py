"""Each alarm of SPEC §2: metric, threshold, period, dimensions, the topic as action."""

from __future__ import annotations

from botocore.exceptions import ClientError

from mirror_infra import contract
from mirror_infra.checks.base import Check, Environment, Evidence, failed
from mirror_infra.contract import PERIOD, AlarmSpec
from mirror_infra.names import RootOutput

ID = "alarms"
DESCRIPTION = "Each alarm as declared, acting on the topic"

_OPERATORS = {
    "GreaterThanThreshold": ">",
    "GreaterThanOrEqualToThreshold": ">=",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
}


def alarm_rows(env: Environment) -> list[Check]:
    """Each alarm of SPEC §2 (one describe call for all), as the template declares it."""
    names = [env.dep.names.alarm(spec.suffix) for spec in contract.ALARMS]
    try:
        pages = env.client("cloudwatch").get_paginator("describe_alarms").paginate(AlarmNames=names)
        found = {a["AlarmName"]: a for page in pages for a in page["MetricAlarms"]}
    except ClientError as exc:
        return [failed(f"alarm {spec.suffix}", exc) for spec in contract.ALARMS]
    return [_alarm_row(env, spec, found) for spec in contract.ALARMS]


def _alarm_row(env: Environment, spec: AlarmSpec, found: dict[str, dict]) -> Check:
    name = f"alarm {spec.suffix}"
    alarm = found.get(env.dep.names.alarm(spec.suffix))
    ev = Evidence()
    if alarm is None:
        ev.expect(False, "missing", f"{spec.metric} alarm")
        return ev.check(name)
    namespace = env.dep.names.metric_namespace if spec.namespace == "app" else spec.namespace
    wanted = f"{spec.metric} Sum {_OPERATORS[spec.operator]} {spec.threshold:g} per {PERIOD}s"
    shown = (
        f"{alarm.get('MetricName')} {alarm.get('Statistic')} "
        f"{_OPERATORS.get(alarm.get('ComparisonOperator', ''), alarm.get('ComparisonOperator'))} "
        f"{alarm.get('Threshold', 0):g} per {alarm.get('Period')}s"
    )
    ev.expect(
        shown == wanted and alarm.get("Namespace") == namespace, shown, f"{wanted} in {namespace}"
    )
    if spec.table_logical_id:
        table = next(t for t in contract.TABLES if t.logical_id == spec.table_logical_id)
        dims = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
        table_name = f"{env.dep.names.prefix}-{table.suffix}"
        ev.expect(
            dims.get("TableName") == table_name,
            f"TableName {dims.get('TableName', '-')}",
            f"TableName {table_name}",
        )
    topic = env.stack.outputs.get(RootOutput.SNS_TOPIC_ARN, "")
    actions = alarm.get("AlarmActions", [])
    shown_actions = f"topic {env.dep.names.topic}" if topic in actions else ", ".join(actions)
    ev.expect(
        topic in actions, f"action {shown_actions or 'none'}", f"action topic {env.dep.names.topic}"
    )
    ev.fact(f"state {alarm.get('StateValue')}")
    return ev.check(name)
