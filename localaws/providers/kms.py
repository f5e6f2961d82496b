"""AWS::KMS::Key and AWS::KMS::Alias.

Corrects moto, whose Key model passes a `KeyPolicy` object straight to the backend so that
DescribeKey/GetKeyPolicy break afterwards (SPEC §4), and which never updates a key in place.
"""

from __future__ import annotations

import json

from localaws.providers.base import (
    Created,
    Ctx,
    NotFound,
    Provider,
    ResourceFailure,
    tag_changes,
    tags_list,
)


def _policy_text(policy: dict | str | None) -> str | None:
    if policy is None:
        return None
    return policy if isinstance(policy, str) else json.dumps(policy)


def _kms_tags(tags: list | None) -> list[dict[str, str]]:
    return [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in tags_list(tags)]


class KeyProvider(Provider):
    type_name = "AWS::KMS::Key"
    attributes = frozenset({"Arn", "KeyId"})

    def create(self, ctx: Ctx, props: dict) -> Created:
        kms = ctx.client("kms")
        args = {
            "KeyUsage": props.get("KeyUsage", "ENCRYPT_DECRYPT"),
            "KeySpec": props.get("KeySpec", "SYMMETRIC_DEFAULT"),
            "MultiRegion": bool(props.get("MultiRegion", False)),
        }
        if props.get("KeyPolicy") is not None:
            args["Policy"] = _policy_text(props["KeyPolicy"])
        if props.get("Description") is not None:
            args["Description"] = props["Description"]
        if props.get("Tags"):
            args["Tags"] = _kms_tags(props["Tags"])
        meta = kms.create_key(**args)["KeyMetadata"]
        if _true(props.get("EnableKeyRotation")):
            kms.enable_key_rotation(KeyId=meta["KeyId"])
        if props.get("Enabled") is not None and not _true(props["Enabled"]):
            kms.disable_key(KeyId=meta["KeyId"])
        return Created(meta["KeyId"], {"Arn": meta["Arn"], "KeyId": meta["KeyId"]})

    def update(self, ctx: Ctx, physical_id: str, old: dict, new: dict) -> Created:
        # KMS has no call that changes them: "If you change the value of the KeySpec property
        # on an existing KMS key, the update request fails, regardless of the value of the
        # UpdateReplacePolicy attribute" (aws-resource-kms-key.html; KeyUsage likewise)
        for prop, default in (("KeySpec", "SYMMETRIC_DEFAULT"), ("KeyUsage", "ENCRYPT_DECRYPT")):
            if old.get(prop, default) != new.get(prop, default):
                raise ResourceFailure(
                    f'Resource handler returned message: "You cannot change the {prop} of an '
                    f'existing KMS key ({physical_id})" (HandlerErrorCode: InvalidRequest)'
                )
        kms = ctx.client("kms")
        if old.get("Description") != new.get("Description"):
            kms.update_key_description(KeyId=physical_id, Description=new.get("Description", ""))
        if old.get("KeyPolicy") != new.get("KeyPolicy") and new.get("KeyPolicy") is not None:
            kms.put_key_policy(
                KeyId=physical_id, PolicyName="default", Policy=_policy_text(new["KeyPolicy"])
            )
        if _true(old.get("EnableKeyRotation")) != _true(new.get("EnableKeyRotation")):
            if _true(new.get("EnableKeyRotation")):
                kms.enable_key_rotation(KeyId=physical_id)
            else:
                kms.disable_key_rotation(KeyId=physical_id)
        if _true(old.get("Enabled", True)) != _true(new.get("Enabled", True)):
            if _true(new.get("Enabled", True)):
                kms.enable_key(KeyId=physical_id)
            else:
                kms.disable_key(KeyId=physical_id)
        _retag(kms, physical_id, old.get("Tags"), new.get("Tags"))
        meta = kms.describe_key(KeyId=physical_id)["KeyMetadata"]
        return Created(physical_id, {"Arn": meta["Arn"], "KeyId": physical_id})

    def delete(self, ctx: Ctx, physical_id: str, props: dict) -> None:
        kms = ctx.client("kms")
        kms.schedule_key_deletion(
            KeyId=physical_id, PendingWindowInDays=int(props.get("PendingWindowInDays", 30))
        )

    def adopt(self, ctx: Ctx, physical_id: str, props: dict) -> Created:
        from botocore.exceptions import ClientError

        try:
            meta = ctx.client("kms").describe_key(KeyId=physical_id)["KeyMetadata"]
        except ClientError as exc:
            raise NotFound(physical_id) from exc
        return Created(meta["KeyId"], {"Arn": meta["Arn"], "KeyId": meta["KeyId"]})

    def read(self, ctx: Ctx, physical_id: str, props: dict) -> dict:
        kms = ctx.client("kms")
        from botocore.exceptions import ClientError

        try:
            meta = kms.describe_key(KeyId=physical_id)["KeyMetadata"]
        except ClientError as exc:
            raise NotFound(physical_id) from exc
        if meta.get("KeyState") == "PendingDeletion":
            raise NotFound(physical_id)
        policy = kms.get_key_policy(KeyId=physical_id, PolicyName="default")["Policy"]
        rotation = kms.get_key_rotation_status(KeyId=physical_id)["KeyRotationEnabled"]
        tags = kms.list_resource_tags(KeyId=physical_id).get("Tags", [])
        return {
            "Description": meta.get("Description", ""),
            "KeyPolicy": json.loads(policy) if policy else None,
            "EnableKeyRotation": rotation,
            "Enabled": meta.get("Enabled", True),
            "KeyUsage": meta.get("KeyUsage"),
            "KeySpec": meta.get("KeySpec", meta.get("CustomerMasterKeySpec")),
            "MultiRegion": meta.get("MultiRegion", False),
            "Tags": [{"Key": t["TagKey"], "Value": t["TagValue"]} for t in tags],
        }


def _retag(kms, key_id: str, old: list | None, new: list | None) -> None:
    gone, changed = tag_changes(old, new)
    if gone:
        kms.untag_resource(KeyId=key_id, TagKeys=gone)
    if changed:
        kms.tag_resource(KeyId=key_id, Tags=_kms_tags(changed))


class AliasProvider(Provider):
    type_name = "AWS::KMS::Alias"

    def create(self, ctx: Ctx, props: dict) -> Created:
        ctx.client("kms").create_alias(
            AliasName=props["AliasName"], TargetKeyId=props["TargetKeyId"]
        )
        return Created(props["AliasName"])

    def update(self, ctx: Ctx, physical_id: str, old: dict, new: dict) -> Created:
        ctx.client("kms").update_alias(AliasName=physical_id, TargetKeyId=new["TargetKeyId"])
        return Created(physical_id)

    def delete(self, ctx: Ctx, physical_id: str, props: dict) -> None:
        ctx.client("kms").delete_alias(AliasName=physical_id)

    def read(self, ctx: Ctx, physical_id: str, props: dict) -> dict:
        for alias in ctx.client("kms").list_aliases()["Aliases"]:
            if alias["AliasName"] == physical_id:
                target = alias.get("TargetKeyId")
                wanted = props.get("TargetKeyId", "")
                # the template may name the key by id or ARN; AWS compares the key, not the text
                if target and wanted.endswith(f"key/{target}"):
                    target = wanted
                return {"AliasName": physical_id, "TargetKeyId": target}
        raise NotFound(physical_id)


def _true(value) -> bool:
    return str(value).lower() == "true"


PROVIDERS = [KeyProvider(), AliasProvider()]
