"""AWS::S3::Bucket and AWS::S3::BucketPolicy.

Corrects moto, whose Bucket model ignores VersioningConfiguration and
PublicAccessBlockConfiguration (and lifecycle/ownership settings), never updates a bucket in
place, and has no AWS::S3::BucketPolicy at all (skipped silently).
"""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from localaws.providers.base import (
    Created,
    Ctx,
    NotFound,
    Provider,
    tags_list,
    user_tags,
)


def _missing(exc: ClientError) -> bool:
    code = exc.response["Error"]["Code"]
    return code.startswith("NoSuch") or code in (
        "ServerSideEncryptionConfigurationNotFoundError",
        "OwnershipControlsNotFoundError",
        "404",
    )


class BucketProvider(Provider):
    type_name = "AWS::S3::Bucket"
    attributes = frozenset(
        {"Arn", "DomainName", "RegionalDomainName", "DualStackDomainName", "WebsiteURL"}
    )

    def create(self, ctx: Ctx, props: dict) -> Created:
        s3 = ctx.client("s3")
        name = props.get("BucketName") or ctx.generated_name(63, lower=True)
        args: dict = {"Bucket": name}
        if ctx.region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": ctx.region}
        s3.create_bucket(**args)
        self._configure(s3, name, {}, props)
        return Created(name, self._attributes(ctx, name))

    def update(self, ctx: Ctx, physical_id: str, old: dict, new: dict) -> Created:
        self._configure(ctx.client("s3"), physical_id, old, new)
        return Created(physical_id, self._attributes(ctx, physical_id))

    def delete(self, ctx: Ctx, physical_id: str, props: dict) -> None:
        try:
            ctx.client("s3").delete_bucket(Bucket=physical_id)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "NoSuchBucket":
                raise

    def adopt(self, ctx: Ctx, physical_id: str, props: dict) -> Created:
        self.read(ctx, physical_id, props)
        return Created(physical_id, self._attributes(ctx, physical_id))

    def read(self, ctx: Ctx, physical_id: str, props: dict) -> dict:
        s3 = ctx.client("s3")
        try:
            s3.head_bucket(Bucket=physical_id)
        except ClientError as exc:
            raise NotFound(physical_id) from exc
        actual: dict = {"BucketName": physical_id}
        status = s3.get_bucket_versioning(Bucket=physical_id).get("Status")
        if status:
            actual["VersioningConfiguration"] = {"Status": status}
        try:
            rules = s3.get_bucket_encryption(Bucket=physical_id)[
                "ServerSideEncryptionConfiguration"
            ]["Rules"]
            actual["BucketEncryption"] = {
                "ServerSideEncryptionConfiguration": [_rule_from_api(r) for r in rules]
            }
        except ClientError as exc:
            if not _missing(exc):
                raise
        try:
            actual["PublicAccessBlockConfiguration"] = s3.get_public_access_block(
                Bucket=physical_id
            )["PublicAccessBlockConfiguration"]
        except ClientError as exc:
            if not _missing(exc):
                raise
        try:
            rules = s3.get_bucket_lifecycle_configuration(Bucket=physical_id)["Rules"]
            actual["LifecycleConfiguration"] = {"Rules": [_lifecycle_from_api(r) for r in rules]}
        except ClientError as exc:
            if not _missing(exc):
                raise
        try:
            ownership = s3.get_bucket_ownership_controls(Bucket=physical_id)
            actual["OwnershipControls"] = {"Rules": ownership["OwnershipControls"]["Rules"]}
        except ClientError as exc:
            if not _missing(exc):
                raise
        try:
            tags = s3.get_bucket_tagging(Bucket=physical_id)["TagSet"]
        except ClientError as exc:
            if not _missing(exc):
                raise
            tags = []
        actual["Tags"] = user_tags(tags)
        return actual

    @staticmethod
    def _attributes(ctx: Ctx, name: str) -> dict:
        return {
            "Arn": f"arn:{ctx.partition}:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{ctx.region}.amazonaws.com",
            "DualStackDomainName": f"{name}.s3.dualstack.{ctx.region}.amazonaws.com",
            "WebsiteURL": f"http://{name}.s3-website-{ctx.region}.amazonaws.com",
        }

    @staticmethod
    def _configure(s3, name: str, old: dict, new: dict) -> None:
        """Apply every bucket setting that differs between `old` and `new`."""

        def changed(key: str) -> bool:
            return old.get(key) != new.get(key)

        if changed("BucketEncryption"):
            if new.get("BucketEncryption"):
                rules = new["BucketEncryption"]["ServerSideEncryptionConfiguration"]
                s3.put_bucket_encryption(
                    Bucket=name,
                    ServerSideEncryptionConfiguration={"Rules": [_rule_to_api(r) for r in rules]},
                )
            else:
                s3.delete_bucket_encryption(Bucket=name)
        if changed("VersioningConfiguration"):
            status = (new.get("VersioningConfiguration") or {}).get("Status", "Suspended")
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": status})
        if changed("PublicAccessBlockConfiguration"):
            if new.get("PublicAccessBlockConfiguration"):
                config = {
                    k: str(v).lower() == "true"
                    for k, v in new["PublicAccessBlockConfiguration"].items()
                }
                s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=config)
            else:
                s3.delete_public_access_block(Bucket=name)
        if changed("LifecycleConfiguration"):
            if new.get("LifecycleConfiguration"):
                rules = [_lifecycle_to_api(r) for r in new["LifecycleConfiguration"]["Rules"]]
                s3.put_bucket_lifecycle_configuration(
                    Bucket=name, LifecycleConfiguration={"Rules": rules}
                )
            else:
                s3.delete_bucket_lifecycle(Bucket=name)
        if changed("OwnershipControls"):
            if new.get("OwnershipControls"):
                s3.put_bucket_ownership_controls(
                    Bucket=name, OwnershipControls={"Rules": new["OwnershipControls"]["Rules"]}
                )
            else:
                s3.delete_bucket_ownership_controls(Bucket=name)
        if changed("Tags"):
            if new.get("Tags"):
                s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tags_list(new["Tags"])})
            else:
                s3.delete_bucket_tagging(Bucket=name)


def _rule_to_api(rule: dict) -> dict:
    out = {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
    if "BucketKeyEnabled" in rule:
        out["BucketKeyEnabled"] = str(rule["BucketKeyEnabled"]).lower() == "true"
    return out


def _rule_from_api(rule: dict) -> dict:
    out = {"ServerSideEncryptionByDefault": rule["ApplyServerSideEncryptionByDefault"]}
    if "BucketKeyEnabled" in rule:
        out["BucketKeyEnabled"] = rule["BucketKeyEnabled"]
    return out


# CloudFormation's lifecycle rule -> the API's, for the keys whose shape differs
def _lifecycle_to_api(rule: dict) -> dict:
    out: dict = {"Status": rule["Status"]}
    if "Id" in rule:
        out["ID"] = rule["Id"]
    out["Filter"] = {"Prefix": rule.get("Prefix", "")}
    if "ExpirationInDays" in rule:
        out["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "AbortIncompleteMultipartUpload" in rule:
        days = int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
        out["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": days}
    if "NoncurrentVersionExpiration" in rule:
        spec = rule["NoncurrentVersionExpiration"]
        out["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(spec["NoncurrentDays"])}
        if "NewerNoncurrentVersions" in spec:
            out["NoncurrentVersionExpiration"]["NewerNoncurrentVersions"] = int(
                spec["NewerNoncurrentVersions"]
            )
    if "NoncurrentVersionExpirationInDays" in rule:
        out["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": int(rule["NoncurrentVersionExpirationInDays"])
        }
    return out


def _lifecycle_from_api(rule: dict) -> dict:
    out: dict = {"Status": rule["Status"]}
    if "ID" in rule:
        out["Id"] = rule["ID"]
    prefix = (rule.get("Filter") or {}).get("Prefix", rule.get("Prefix", ""))
    if prefix:
        out["Prefix"] = prefix
    if "Expiration" in rule and "Days" in rule["Expiration"]:
        out["ExpirationInDays"] = rule["Expiration"]["Days"]
    for key in ("AbortIncompleteMultipartUpload", "NoncurrentVersionExpiration"):
        if key in rule:
            out[key] = rule[key]
    return out


class BucketPolicyProvider(Provider):
    type_name = "AWS::S3::BucketPolicy"

    def create(self, ctx: Ctx, props: dict) -> Created:
        ctx.client("s3").put_bucket_policy(
            Bucket=props["Bucket"], Policy=_text(props["PolicyDocument"])
        )
        return Created(props["Bucket"])

    def update(self, ctx: Ctx, physical_id: str, old: dict, new: dict) -> Created:
        return self.create(ctx, new)

    def delete(self, ctx: Ctx, physical_id: str, props: dict) -> None:
        try:
            ctx.client("s3").delete_bucket_policy(Bucket=physical_id)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "NoSuchBucket":
                raise

    def read(self, ctx: Ctx, physical_id: str, props: dict) -> dict:
        try:
            policy = ctx.client("s3").get_bucket_policy(Bucket=physical_id)["Policy"]
        except ClientError as exc:
            raise NotFound(physical_id) from exc
        return {"Bucket": physical_id, "PolicyDocument": json.loads(policy)}


def _text(doc: dict | str) -> str:
    return doc if isinstance(doc, str) else json.dumps(doc)


PROVIDERS = [BucketProvider(), BucketPolicyProvider()]
