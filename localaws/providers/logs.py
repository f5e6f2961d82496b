"""AWS::Logs::LogGroup and AWS::Logs::MetricFilter.

Corrects moto, which has no AWS::Logs::MetricFilter model (skipped silently) and cannot update a
log group's retention, key or tags in place.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from localaws.providers.base import Created, Ctx, NotFound, Provider, tags_list


class LogGroupProvider(Provider):
    type_name = "AWS::Logs::LogGroup"
    attributes = frozenset({"Arn"})

    def create(self, ctx: Ctx, props: dict) -> Created:
        logs = ctx.client("logs")
        name = props.get("LogGroupName") or ctx.generated_name(512)
        args: dict = {"logGroupName": name}
        if props.get("KmsKeyId"):
            args["kmsKeyId"] = props["KmsKeyId"]
        if props.get("Tags"):
            args["tags"] = {t["Key"]: t["Value"] for t in tags_list(props["Tags"])}
        logs.create_log_group(**args)
        if props.get("RetentionInDays") is not None:
            logs.put_retention_policy(
                logGroupName=name, retentionInDays=int(props["RetentionInDays"])
            )
        return Created(name, {"Arn": self._arn(ctx, name)})

    def update(self, ctx: Ctx, physical_id: str, old: dict, new: dict) -> Created:
        logs = ctx.client("logs")
        if old.get("RetentionInDays") != new.get("RetentionInDays"):
            if new.get("RetentionInDays") is not None:
                logs.put_retention_policy(
                    logGroupName=physical_id, retentionInDays=int(new["RetentionInDays"])
                )
            else:
                logs.delete_retention_policy(logGroupName=physical_id)
        if old.get("KmsKeyId") != new.get("KmsKeyId"):
            if new.get("KmsKeyId"):
                logs.associate_kms_key(logGroupName=physical_id, kmsKeyId=new["KmsKeyId"])
            else:
                logs.disassociate_kms_key(logGroupName=physical_id)
        before = {t["Key"] for t in tags_list(old.get("Tags"))}
        after = {t["Key"]: t["Value"] for t in tags_list(new.get("Tags"))}
        arn = self._arn(ctx, physical_id).removesuffix(":*")
        if before - set(after):
            logs.untag_resource(resourceArn=arn, tagKeys=list(before - set(after)))
        if after:
            logs.tag_resource(resourceArn=arn, tags=after)
        return Created(physical_id, {"Arn": self._arn(ctx, physical_id)})

    def delete(self, ctx: Ctx, physical_id: str, props: dict) -> None:
        try:
            ctx.client("logs").delete_log_group(logGroupName=physical_id)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise

    def adopt(self, ctx: Ctx, physical_id: str, props: dict) -> Created:
        self.read(ctx, physical_id, props)
        return Created(physical_id, {"Arn": self._arn(ctx, physical_id)})

    def read(self, ctx: Ctx, physical_id: str, props: dict) -> dict:
        logs = ctx.client("logs")
        groups = logs.describe_log_groups(logGroupNamePrefix=physical_id)["logGroups"]
        group = next((g for g in groups if g["logGroupName"] == physical_id), None)
        if group is None:
            raise NotFound(physical_id)
        actual: dict = {"LogGroupName": physical_id}
        if "retentionInDays" in group:
            actual["RetentionInDays"] = group["retentionInDays"]
        if group.get("kmsKeyId"):
            actual["KmsKeyId"] = group["kmsKeyId"]
        arn = self._arn(ctx, physical_id).removesuffix(":*")
        tags = logs.list_tags_for_resource(resourceArn=arn).get("tags", {})
        actual["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        return actual

    @staticmethod
    def _arn(ctx: Ctx, name: str) -> str:
        return f"arn:{ctx.partition}:logs:{ctx.region}:{ctx.account_id}:log-group:{name}:*"


_TRANSFORM_KEYS = {
    "MetricName": "metricName",
    "MetricNamespace": "metricNamespace",
    "MetricValue": "metricValue",
    "DefaultValue": "defaultValue",
    "Unit": "unit",
}


class MetricFilterProvider(Provider):
    type_name = "AWS::Logs::MetricFilter"

    def create(self, ctx: Ctx, props: dict) -> Created:
        name = props.get("FilterName") or ctx.generated_name(512)
        self._put(ctx, name, props)
        return Created(name)

    def update(self, ctx: Ctx, physical_id: str, old: dict, new: dict) -> Created:
        self._put(ctx, physical_id, new)
        return Created(physical_id)

    def delete(self, ctx: Ctx, physical_id: str, props: dict) -> None:
        try:
            ctx.client("logs").delete_metric_filter(
                logGroupName=props["LogGroupName"], filterName=physical_id
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise

    def read(self, ctx: Ctx, physical_id: str, props: dict) -> dict:
        found = ctx.client("logs").describe_metric_filters(
            logGroupName=props["LogGroupName"], filterNamePrefix=physical_id
        )["metricFilters"]
        spec = next((f for f in found if f["filterName"] == physical_id), None)
        if spec is None:
            raise NotFound(physical_id)
        transformations = []
        for t in spec.get("metricTransformations", []):
            item = {cfn: t[api] for cfn, api in _TRANSFORM_KEYS.items() if api in t}
            transformations.append(item)
        actual = {
            "LogGroupName": spec["logGroupName"],
            "FilterPattern": spec.get("filterPattern", ""),
            "MetricTransformations": transformations,
        }
        if props.get("FilterName"):
            actual["FilterName"] = physical_id
        return actual

    @staticmethod
    def _put(ctx: Ctx, name: str, props: dict) -> None:
        transformations = []
        for t in props["MetricTransformations"]:
            item = {api: t[cfn] for cfn, api in _TRANSFORM_KEYS.items() if cfn in t}
            if "defaultValue" in item:
                item["defaultValue"] = float(item["defaultValue"])
            transformations.append(item)
        ctx.client("logs").put_metric_filter(
            logGroupName=props["LogGroupName"],
            filterName=name,
            filterPattern=props["FilterPattern"],
            metricTransformations=transformations,
        )


PROVIDERS = [LogGroupProvider(), MetricFilterProvider()]
