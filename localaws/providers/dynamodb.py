"""AWS::DynamoDB::Table.

Corrects moto, whose Table model ignores PointInTimeRecoverySpecification,
TimeToLiveSpecification and SSESpecification from the template, and has no update at all: a
changed table is dropped from the stack instead of being updated. Here the updates AWS applies
in place (one GSI added or removed, PITR, TTL, SSE, deletion protection, billing, streams, tags)
are applied to the live table, so its items survive.
"""

from __future__ import annotations

from localaws.providers.base import (
    Created,
    Ctx,
    NotFound,
    Provider,
    ResourceFailure,
    tag_changes,
    tags_list,
    user_tags,
)

_GSI_API_KEYS = ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")


def _gsi(spec: dict) -> dict:
    return {k: spec[k] for k in _GSI_API_KEYS if k in spec}


def _true(value) -> bool:
    return str(value).lower() == "true"


class TableProvider(Provider):
    type_name = "AWS::DynamoDB::Table"
    # The schema leaves KeySchema and LocalSecondaryIndexes out of createOnlyProperties because
    # the handler rejects the change; CloudFormation's documentation says "Replacement".
    extra_replacement = frozenset({"KeySchema", "LocalSecondaryIndexes"})
    attributes = frozenset({"Arn", "StreamArn"})

    def create(self, ctx: Ctx, props: dict) -> Created:
        ddb = ctx.client("dynamodb")
        name = props.get("TableName") or ctx.generated_name()
        args: dict = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        if "ProvisionedThroughput" in props:
            args["ProvisionedThroughput"] = _throughput(props["ProvisionedThroughput"])
        if props.get("GlobalSecondaryIndexes"):
            args["GlobalSecondaryIndexes"] = [_gsi(g) for g in props["GlobalSecondaryIndexes"]]
        if props.get("LocalSecondaryIndexes"):
            args["LocalSecondaryIndexes"] = props["LocalSecondaryIndexes"]
        if props.get("StreamSpecification"):
            args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        sse = _sse(ctx, props.get("SSESpecification"))
        if sse:
            args["SSESpecification"] = sse
        if props.get("Tags"):
            args["Tags"] = tags_list(props["Tags"])
        if "DeletionProtectionEnabled" in props:
            args["DeletionProtectionEnabled"] = _true(props["DeletionProtectionEnabled"])
        if props.get("TableClass"):
            args["TableClass"] = props["TableClass"]
        table = ddb.create_table(**args)["TableDescription"]
        self._apply_ttl(ddb, name, None, props.get("TimeToLiveSpecification"))
        self._apply_pitr(ddb, name, None, props.get("PointInTimeRecoverySpecification"))
        return Created(name, _attributes(table))

    def update(self, ctx: Ctx, physical_id: str, old: dict, new: dict) -> Created:
        ddb = ctx.client("dynamodb")
        name = physical_id
        _refuse_key_changes(name, old, new)
        args: dict = {}
        if old.get("BillingMode", "PROVISIONED") != new.get("BillingMode", "PROVISIONED"):
            args["BillingMode"] = new.get("BillingMode", "PROVISIONED")
        if old.get("ProvisionedThroughput") != new.get("ProvisionedThroughput") and new.get(
            "ProvisionedThroughput"
        ):
            args["ProvisionedThroughput"] = _throughput(new["ProvisionedThroughput"])
        if old.get("StreamSpecification") != new.get("StreamSpecification"):
            spec = new.get("StreamSpecification")
            args["StreamSpecification"] = (
                {"StreamEnabled": True, **spec} if spec else {"StreamEnabled": False}
            )
        if old.get("DeletionProtectionEnabled") != new.get("DeletionProtectionEnabled"):
            args["DeletionProtectionEnabled"] = _true(new.get("DeletionProtectionEnabled"))
        if args:
            ddb.update_table(TableName=name, **args)
        self._update_indexes(ddb, name, old, new)
        if old.get("SSESpecification") != new.get("SSESpecification"):
            self._apply_sse(ctx, name, new.get("SSESpecification"))
        self._apply_ttl(
            ddb, name, old.get("TimeToLiveSpecification"), new.get("TimeToLiveSpecification")
        )
        self._apply_pitr(
            ddb,
            name,
            old.get("PointInTimeRecoverySpecification"),
            new.get("PointInTimeRecoverySpecification"),
        )
        self._retag(ddb, name, old.get("Tags"), new.get("Tags"))
        table = ddb.describe_table(TableName=name)["Table"]
        return Created(name, _attributes(table))

    def delete(self, ctx: Ctx, physical_id: str, props: dict) -> None:
        from botocore.exceptions import ClientError

        try:
            ctx.client("dynamodb").delete_table(TableName=physical_id)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                return
            raise

    def adopt(self, ctx: Ctx, physical_id: str, props: dict) -> Created:
        from botocore.exceptions import ClientError

        try:
            table = ctx.client("dynamodb").describe_table(TableName=physical_id)["Table"]
        except ClientError as exc:
            raise NotFound(physical_id) from exc
        return Created(physical_id, _attributes(table))

    def read(self, ctx: Ctx, physical_id: str, props: dict) -> dict:
        from botocore.exceptions import ClientError

        ddb = ctx.client("dynamodb")
        try:
            table = ddb.describe_table(TableName=physical_id)["Table"]
        except ClientError as exc:
            raise NotFound(physical_id) from exc
        ttl = ddb.describe_time_to_live(TableName=physical_id)["TimeToLiveDescription"]
        pitr = ddb.describe_continuous_backups(TableName=physical_id)[
            "ContinuousBackupsDescription"
        ]["PointInTimeRecoveryDescription"]
        tags = ddb.list_tags_of_resource(ResourceArn=table["TableArn"]).get("Tags", [])
        actual: dict = {
            "TableName": table["TableName"],
            "AttributeDefinitions": table["AttributeDefinitions"],
            "KeySchema": table["KeySchema"],
            "BillingMode": table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"),
            "DeletionProtectionEnabled": table.get("DeletionProtectionEnabled", False),
            "PointInTimeRecoverySpecification": {
                "PointInTimeRecoveryEnabled": pitr["PointInTimeRecoveryStatus"] == "ENABLED"
            },
            "Tags": user_tags(tags),
        }
        if table.get("GlobalSecondaryIndexes"):
            actual["GlobalSecondaryIndexes"] = [
                {k: g[k] for k in ("IndexName", "KeySchema", "Projection") if k in g}
                for g in table["GlobalSecondaryIndexes"]
            ]
        if ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
            actual["TimeToLiveSpecification"] = {
                "AttributeName": ttl.get("AttributeName"),
                "Enabled": True,
            }
        else:
            actual["TimeToLiveSpecification"] = {"Enabled": False}
        sse = table.get("SSEDescription")
        if sse and sse.get("Status") in ("ENABLED", "ENABLING"):
            actual["SSESpecification"] = {
                "SSEEnabled": True,
                "SSEType": sse.get("SSEType", "KMS"),
                "KMSMasterKeyId": sse.get("KMSMasterKeyArn"),
            }
        else:
            actual["SSESpecification"] = {"SSEEnabled": False}
        if table.get("StreamSpecification", {}).get("StreamEnabled"):
            actual["StreamSpecification"] = {
                "StreamViewType": table["StreamSpecification"].get("StreamViewType")
            }
        return actual

    # the pieces ------------------------------------------------------------------------------
    def _update_indexes(self, ddb, name: str, old: dict, new: dict) -> None:
        before = {g["IndexName"]: g for g in old.get("GlobalSecondaryIndexes") or []}
        after = {g["IndexName"]: g for g in new.get("GlobalSecondaryIndexes") or []}
        created = [n for n in after if n not in before]
        deleted = [n for n in before if n not in after]
        if len(created) + len(deleted) > 1:
            # DynamoDB takes one index creation or deletion per UpdateTable; CloudFormation fails
            raise ResourceFailure(
                "Cannot perform more than one GSI creation or deletion in a single update"
            )
        for index in deleted:
            ddb.update_table(
                TableName=name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": index}}]
            )
        for index in created:
            ddb.update_table(
                TableName=name,
                AttributeDefinitions=new["AttributeDefinitions"],
                GlobalSecondaryIndexUpdates=[{"Create": _gsi(after[index])}],
            )
        for index in set(before) & set(after):
            if _gsi(before[index]) != _gsi(after[index]):
                if before[index].get("KeySchema") != after[index].get("KeySchema") or before[
                    index
                ].get("Projection") != after[index].get("Projection"):
                    raise ResourceFailure(
                        f"Cannot update GSI's properties other than Provisioned Throughput and "
                        f"Contributor Insights Specification. You can create a new GSI with a "
                        f"different name. (index {index})"
                    )
                if after[index].get("ProvisionedThroughput"):
                    ddb.update_table(
                        TableName=name,
                        GlobalSecondaryIndexUpdates=[
                            {
                                "Update": {
                                    "IndexName": index,
                                    "ProvisionedThroughput": _throughput(
                                        after[index]["ProvisionedThroughput"]
                                    ),
                                }
                            }
                        ],
                    )

    @staticmethod
    def _apply_ttl(ddb, name: str, old: dict | None, new: dict | None) -> None:
        if old == new:
            return
        if new and _true(new.get("Enabled")):
            ddb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": new["AttributeName"], "Enabled": True},
            )
        elif old and _true(old.get("Enabled")):
            ddb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": old["AttributeName"], "Enabled": False},
            )

    @staticmethod
    def _apply_pitr(ddb, name: str, old: dict | None, new: dict | None) -> None:
        was = _true((old or {}).get("PointInTimeRecoveryEnabled"))
        now = _true((new or {}).get("PointInTimeRecoveryEnabled"))
        if was != now or (old is None and now):
            ddb.update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": now}
            )

    @staticmethod
    def _apply_sse(ctx: Ctx, name: str, spec: dict | None) -> None:
        # moto's UpdateTable takes no SSESpecification; set the table's stored spec directly
        from moto.dynamodb.models import dynamodb_backends

        table = dynamodb_backends[ctx.account_id][ctx.region].get_table(name)
        table.sse_specification = _sse(ctx, spec) or None

    @staticmethod
    def _retag(ddb, name: str, old: list | None, new: list | None) -> None:
        arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
        gone, changed = tag_changes(old, new)
        if gone:
            ddb.untag_resource(ResourceArn=arn, TagKeys=gone)
        if changed:
            # moto appends on TagResource; remove first so a changed value replaces the old one
            ddb.untag_resource(ResourceArn=arn, TagKeys=list(changed))
            ddb.tag_resource(ResourceArn=arn, Tags=tags_list(changed))


def _throughput(spec: dict) -> dict:
    return {
        "ReadCapacityUnits": int(spec["ReadCapacityUnits"]),
        "WriteCapacityUnits": int(spec["WriteCapacityUnits"]),
    }


def _sse(ctx: Ctx, spec: dict | None) -> dict | None:
    """The API's SSESpecification for the template's, with the key resolved to its ARN as AWS
    does (DescribeTable shows KMSMasterKeyArn)."""
    if not spec or not _true(spec.get("SSEEnabled")):
        return None
    out = {"Enabled": True, "SSEType": spec.get("SSEType", "KMS")}
    key = spec.get("KMSMasterKeyId")
    if key:
        out["KMSMasterKeyId"] = ctx.client("kms").describe_key(KeyId=key)["KeyMetadata"]["Arn"]
    return out


def _attributes(table: dict) -> dict:
    attrs = {"Arn": table["TableArn"]}
    if table.get("LatestStreamArn"):
        attrs["StreamArn"] = table["LatestStreamArn"]
    return attrs


PROVIDERS = [TableProvider()]


def _refuse_key_changes(name: str, old: dict, new: dict) -> None:
    """UpdateTable cannot change a table's key schema or the type of a key attribute; the
    update fails rather than being ignored."""
    if old.get("KeySchema") != new.get("KeySchema"):
        raise ResourceFailure(
            f"Cannot update the KeySchema of table {name}: a table's key is fixed at creation"
        )
    keys = {k["AttributeName"] for k in new.get("KeySchema") or []}
    for g in new.get("GlobalSecondaryIndexes") or []:
        if g["IndexName"] in {i["IndexName"] for i in old.get("GlobalSecondaryIndexes") or []}:
            keys |= {k["AttributeName"] for k in g.get("KeySchema") or []}
    before = {a["AttributeName"]: a["AttributeType"] for a in old.get("AttributeDefinitions") or []}
    after = {a["AttributeName"]: a["AttributeType"] for a in new.get("AttributeDefinitions") or []}
    for attribute in sorted(keys):
        if attribute in before and before[attribute] != after.get(attribute, before[attribute]):
            raise ResourceFailure(
                f"Cannot change the type of key attribute {attribute} of table {name} "
                f"({before[attribute]} to {after[attribute]})"
            )
