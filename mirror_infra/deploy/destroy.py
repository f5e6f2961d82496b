"""`destroy`: say exactly what is deleted and what is retained, then delete the environment."""

from __future__ import annotations

from dataclasses import dataclass, field

from mirror_infra.aws.cfn_answers import StackResource
from mirror_infra.aws.cloudformation import CloudFormation
from mirror_infra.deploy import nonce
from mirror_infra.deploy.context import Deployment
from mirror_infra.errors import DeployError

RETAINING_POLICIES = ("Retain", "RetainExceptOnCreate")


@dataclass(frozen=True)
class Item:
    qualified_id: str
    resource_type: str
    physical_id: str
    why: str = ""


@dataclass
class Teardown:
    stack_id: str
    deleted: list[Item] = field(default_factory=list)
    retained: list[Item] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)
    nonce_versions: list[str] = field(default_factory=list)
    termination_protection: bool = False
    # buckets destroy would delete that still hold objects: bucket -> its versions and markers
    full_buckets: dict[str, list[dict[str, str]]] = field(default_factory=dict)


def _policies(cfn: CloudFormation, stack_id: str) -> dict[str, str]:
    template = cfn.template(stack_id)
    return {
        name: r.get("DeletionPolicy", "Delete")
        for name, r in (template.get("Resources") or {}).items()
    }


def survey(dep: Deployment) -> Teardown | None:
    """What destroy would do; None when the environment does not exist."""
    cfn = dep.cfn
    info = cfn.stack(dep.stack_name)
    if info is None:
        return None
    teardown = Teardown(info.stack_id, termination_protection=info.termination_protection)
    for node in cfn.tree(info.stack_id):
        policies = _policies(cfn, node.stack_id)
        for r in node.resources:
            if r.is_stack:
                continue
            qualified = str(r.path)
            policy = policies.get(r.logical_id, "Delete")
            if policy in RETAINING_POLICIES:
                teardown.retained.append(
                    Item(qualified, r.resource_type, r.physical_id, f"DeletionPolicy {policy}")
                )
                continue
            note = (
                "scheduled for deletion (KMS waits its PendingWindowInDays first)"
                if r.resource_type == "AWS::KMS::Key"
                else ""
            )
            teardown.deleted.append(Item(qualified, r.resource_type, r.physical_id, note))
            if r.resource_type == "AWS::S3::Bucket" and r.physical_id:
                versions = (
                    dep.s3.versions(r.physical_id) if dep.s3.has_objects(r.physical_id) else []
                )
                if versions:
                    teardown.full_buckets[r.physical_id] = versions
                continue
            blocker = _blocker(dep, r)
            if blocker:
                teardown.blockers.append(f"{qualified}: {blocker}")
    teardown.nonce_versions = nonce_versions(dep)
    return teardown


def _blocker(dep: Deployment, r: StackResource) -> str:
    """Why CloudFormation would fail to delete this resource, found before trying."""
    if not r.physical_id:
        return ""
    if r.resource_type == "AWS::DynamoDB::Table" and dep.dynamodb.deletion_protection(
        r.physical_id
    ):
        return "deletion protection is on; turn it off in params and apply first"
    return ""


def empty_buckets(dep: Deployment, teardown: Teardown) -> int:
    """Delete every object version and delete marker of the buckets destroy deletes (never of
    a retained one: those are not in `full_buckets`); how many went."""
    gone = 0
    for bucket, versions in teardown.full_buckets.items():
        dep.s3.delete_versions(bucket, versions)
        gone += len(versions)
    return gone


def check_can_delete(dep: Deployment, teardown: Teardown, emptying: bool = False) -> None:
    """Refuse what CloudFormation would fail on: termination protection, deletion protection,
    buckets with objects (unless they are to be emptied first)."""
    blockers = list(teardown.blockers)
    if not emptying:
        blockers += [
            f"{bucket}: the bucket is not empty ({len(versions)} object version(s); "
            "CloudFormation deletes only empty buckets; --empty-buckets deletes them first)"
            for bucket, versions in teardown.full_buckets.items()
        ]
    if teardown.termination_protection:
        raise DeployError(
            f"{dep.stack_name} has termination protection on; to destroy it, first run "
            f"'aws cloudformation update-termination-protection --no-enable-termination-protection "
            f"--stack-name {dep.stack_name} --region {dep.target.region}'"
        )
    if blockers:
        raise DeployError("cannot destroy: " + "; ".join(blockers))


def nonce_versions(dep: Deployment) -> list[str]:
    return [v.name for v in nonce.versions(dep.ssm, dep.names)]


def delete_nonce(dep: Deployment) -> list[str]:
    return nonce.delete_all(dep.ssm, dep.names)
