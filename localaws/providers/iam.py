"""AWS::IAM::Role.

Corrects moto, whose stack deletion leaves IAM roles and their inline policies behind, so that
create -> delete -> create fails with EntityAlreadyExists (SPEC §4); and which cannot update a
role's trust policy, inline policies or tags in place.
"""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from localaws.providers.base import Created, Ctx, NotFound, Provider, tags_list


def _doc(policy: dict | str) -> str:
    return policy if isinstance(policy, str) else json.dumps(policy)


class RoleProvider(Provider):
    type_name = "AWS::IAM::Role"
    attributes = frozenset({"Arn", "RoleId"})

    def create(self, ctx: Ctx, props: dict) -> Created:
        iam = ctx.client("iam")
        name = props.get("RoleName") or ctx.generated_name(64)
        args: dict = {
            "RoleName": name,
            "AssumeRolePolicyDocument": _doc(props["AssumeRolePolicyDocument"]),
            "Path": props.get("Path", "/"),
        }
        for key in ("Description", "PermissionsBoundary"):
            if props.get(key) is not None:
                args[key] = props[key]
        if props.get("MaxSessionDuration") is not None:
            args["MaxSessionDuration"] = int(props["MaxSessionDuration"])
        if props.get("Tags"):
            args["Tags"] = tags_list(props["Tags"])
        role = iam.create_role(**args)["Role"]
        for policy in props.get("Policies") or []:
            iam.put_role_policy(
                RoleName=name,
                PolicyName=policy["PolicyName"],
                PolicyDocument=_doc(policy["PolicyDocument"]),
            )
        for arn in props.get("ManagedPolicyArns") or []:
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)
        return Created(name, {"Arn": role["Arn"], "RoleId": role["RoleId"]})

    def update(self, ctx: Ctx, physical_id: str, old: dict, new: dict) -> Created:
        iam = ctx.client("iam")
        if old.get("AssumeRolePolicyDocument") != new.get("AssumeRolePolicyDocument"):
            iam.update_assume_role_policy(
                RoleName=physical_id, PolicyDocument=_doc(new["AssumeRolePolicyDocument"])
            )
        if old.get("Description") != new.get("Description") or old.get(
            "MaxSessionDuration"
        ) != new.get("MaxSessionDuration"):
            args: dict = {"RoleName": physical_id, "Description": new.get("Description", "")}
            if new.get("MaxSessionDuration") is not None:
                args["MaxSessionDuration"] = int(new["MaxSessionDuration"])
            iam.update_role(**args)
        before = {p["PolicyName"]: p for p in old.get("Policies") or []}
        after = {p["PolicyName"]: p for p in new.get("Policies") or []}
        for name in set(before) - set(after):
            iam.delete_role_policy(RoleName=physical_id, PolicyName=name)
        for name, policy in after.items():
            if before.get(name) != policy:
                iam.put_role_policy(
                    RoleName=physical_id,
                    PolicyName=name,
                    PolicyDocument=_doc(policy["PolicyDocument"]),
                )
        old_managed = set(old.get("ManagedPolicyArns") or [])
        new_managed = set(new.get("ManagedPolicyArns") or [])
        for arn in old_managed - new_managed:
            iam.detach_role_policy(RoleName=physical_id, PolicyArn=arn)
        for arn in new_managed - old_managed:
            iam.attach_role_policy(RoleName=physical_id, PolicyArn=arn)
        old_tags = {t["Key"] for t in tags_list(old.get("Tags"))}
        new_tags = tags_list(new.get("Tags"))
        gone = old_tags - {t["Key"] for t in new_tags}
        if gone:
            iam.untag_role(RoleName=physical_id, TagKeys=list(gone))
        if new_tags:
            iam.tag_role(RoleName=physical_id, Tags=new_tags)
        role = iam.get_role(RoleName=physical_id)["Role"]
        return Created(physical_id, {"Arn": role["Arn"], "RoleId": role["RoleId"]})

    def delete(self, ctx: Ctx, physical_id: str, props: dict) -> None:
        iam = ctx.client("iam")
        try:
            for name in iam.list_role_policies(RoleName=physical_id)["PolicyNames"]:
                iam.delete_role_policy(RoleName=physical_id, PolicyName=name)
            for policy in iam.list_attached_role_policies(RoleName=physical_id)["AttachedPolicies"]:
                iam.detach_role_policy(RoleName=physical_id, PolicyArn=policy["PolicyArn"])
            iam.delete_role(RoleName=physical_id)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "NoSuchEntity":
                raise

    def adopt(self, ctx: Ctx, physical_id: str, props: dict) -> Created:
        try:
            role = ctx.client("iam").get_role(RoleName=physical_id)["Role"]
        except ClientError as exc:
            raise NotFound(physical_id) from exc
        return Created(physical_id, {"Arn": role["Arn"], "RoleId": role["RoleId"]})

    def read(self, ctx: Ctx, physical_id: str, props: dict) -> dict:
        iam = ctx.client("iam")
        try:
            role = iam.get_role(RoleName=physical_id)["Role"]
        except ClientError as exc:
            raise NotFound(physical_id) from exc
        trust = role["AssumeRolePolicyDocument"]
        actual: dict = {
            "RoleName": physical_id,
            "AssumeRolePolicyDocument": json.loads(trust) if isinstance(trust, str) else trust,
            "Path": role.get("Path", "/"),
            "MaxSessionDuration": role.get("MaxSessionDuration", 3600),
        }
        if role.get("Description") is not None:
            actual["Description"] = role["Description"]
        policies = []
        for name in iam.list_role_policies(RoleName=physical_id)["PolicyNames"]:
            doc = iam.get_role_policy(RoleName=physical_id, PolicyName=name)["PolicyDocument"]
            policies.append(
                {
                    "PolicyName": name,
                    "PolicyDocument": json.loads(doc) if isinstance(doc, str) else doc,
                }
            )
        actual["Policies"] = policies
        attached = iam.list_attached_role_policies(RoleName=physical_id)["AttachedPolicies"]
        if attached or props.get("ManagedPolicyArns") is not None:
            actual["ManagedPolicyArns"] = [p["PolicyArn"] for p in attached]
        actual["Tags"] = iam.list_role_tags(RoleName=physical_id).get("Tags", [])
        return actual


PROVIDERS = [RoleProvider()]
