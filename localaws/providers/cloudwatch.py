"""AWS::CloudWatch::Alarm and AWS::CloudWatch::Dashboard.

Corrects moto, which has no AWS::CloudWatch::Alarm model (alarms are skipped silently, SPEC §4)
and cannot update a dashboard or an alarm in place.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from localaws.providers.base import (
    Created,
    Ctx,
    NotFound,
    Provider,
    ResourceFailure,
    tags_list,
)

_ALARM_KEYS = (
    "AlarmDescription",
    "ActionsEnabled",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Period",
    "Unit",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "Metrics",
    "ThresholdMetricId",
)
_INTS = ("Period", "EvaluationPeriods", "DatapointsToAlarm")


class AlarmProvider(Provider):
    type_name = "AWS::CloudWatch::Alarm"
    attributes = frozenset({"Arn"})

    def create(self, ctx: Ctx, props: dict) -> Created:
        name = props.get("AlarmName") or ctx.generated_name()
        self._put(ctx, name, props)
        if props.get("Tags"):
            ctx.client("cloudwatch").tag_resource(
                ResourceARN=self._arn(ctx, name), Tags=tags_list(props["Tags"])
            )
        return Created(name, {"Arn": self._arn(ctx, name)})

    def update(self, ctx: Ctx, physical_id: str, old: dict, new: dict) -> Created:
        # PutMetricAlarm replaces the alarm's settings in place, as CloudFormation's handler does
        self._put(ctx, physical_id, new)
        cw = ctx.client("cloudwatch")
        before = {t["Key"] for t in tags_list(old.get("Tags"))}
        after = {t["Key"] for t in tags_list(new.get("Tags"))}
        if before - after:
            cw.untag_resource(ResourceARN=self._arn(ctx, physical_id), TagKeys=list(before - after))
        if new.get("Tags"):
            cw.tag_resource(ResourceARN=self._arn(ctx, physical_id), Tags=tags_list(new["Tags"]))
        return Created(physical_id, {"Arn": self._arn(ctx, physical_id)})

    def delete(self, ctx: Ctx, physical_id: str, props: dict) -> None:
        ctx.client("cloudwatch").delete_alarms(AlarmNames=[physical_id])

    def adopt(self, ctx: Ctx, physical_id: str, props: dict) -> Created:
        self.read(ctx, physical_id, props)
        return Created(physical_id, {"Arn": self._arn(ctx, physical_id)})

    def read(self, ctx: Ctx, physical_id: str, props: dict) -> dict:
        cw = ctx.client("cloudwatch")
        alarms = cw.describe_alarms(AlarmNames=[physical_id])["MetricAlarms"]
        if not alarms:
            raise NotFound(physical_id)
        alarm = alarms[0]
        actual = {k: alarm[k] for k in ("AlarmName", *_ALARM_KEYS) if k in alarm}
        try:
            tags = cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"]).get("Tags", [])
        except ClientError:
            tags = []
        actual["Tags"] = tags
        return actual

    @staticmethod
    def _arn(ctx: Ctx, name: str) -> str:
        return f"arn:{ctx.partition}:cloudwatch:{ctx.region}:{ctx.account_id}:alarm:{name}"

    @staticmethod
    def _put(ctx: Ctx, name: str, props: dict) -> None:
        args = {k: props[k] for k in _ALARM_KEYS if k in props}
        for key in _INTS:
            if key in args:
                args[key] = int(args[key])
        if "Threshold" in args:
            args["Threshold"] = float(args["Threshold"])
        if "ActionsEnabled" in args:
            args["ActionsEnabled"] = str(args["ActionsEnabled"]).lower() == "true"
        ctx.client("cloudwatch").put_metric_alarm(AlarmName=name, **args)


class DashboardProvider(Provider):
    type_name = "AWS::CloudWatch::Dashboard"

    def create(self, ctx: Ctx, props: dict) -> Created:
        name = props.get("DashboardName") or ctx.generated_name()
        cloudwatch = ctx.client("cloudwatch")
        try:
            cloudwatch.get_dashboard(DashboardName=name)
        except ClientError:
            pass  # free: create it
        else:
            # PutDashboard would overwrite it; CloudFormation's handler refuses instead (and
            # dashboards are account-global, so another region's stack may own it)
            raise ResourceFailure(
                f'Resource handler returned message: "Dashboard {name} already exists" '
                "(HandlerErrorCode: AlreadyExists)"
            )
        cloudwatch.put_dashboard(DashboardName=name, DashboardBody=props["DashboardBody"])
        return Created(name)

    def update(self, ctx: Ctx, physical_id: str, old: dict, new: dict) -> Created:
        ctx.client("cloudwatch").put_dashboard(
            DashboardName=physical_id, DashboardBody=new["DashboardBody"]
        )
        return Created(physical_id)

    def delete(self, ctx: Ctx, physical_id: str, props: dict) -> None:
        ctx.client("cloudwatch").delete_dashboards(DashboardNames=[physical_id])

    def read(self, ctx: Ctx, physical_id: str, props: dict) -> dict:
        try:
            found = ctx.client("cloudwatch").get_dashboard(DashboardName=physical_id)
        except ClientError as exc:
            raise NotFound(physical_id) from exc
        return {"DashboardName": physical_id, "DashboardBody": found["DashboardBody"]}


PROVIDERS = [AlarmProvider(), DashboardProvider()]
