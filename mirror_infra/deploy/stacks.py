"""Reading CloudFormation state: a stack, its nested stacks, its outputs."""

from __future__ import annotations

from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from mirror_infra.aws.errors import AwsErrorKind, classify
from mirror_infra.aws.status import StackStatus
from mirror_infra.aws.wait import Backoff, poll


@dataclass(frozen=True)
class StackInfo:
    name: str
    stack_id: str
    status: StackStatus
    reason: str
    outputs: dict[str, str]
    parameters: dict[str, str]
    termination_protection: bool
    last_updated: str
    tags: dict[str, str] = field(default_factory=dict)


def describe(cfn, name: str) -> StackInfo | None:
    """The stack, or None when it does not exist (deleted stacks do not exist)."""
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if classify(exc) is AwsErrorKind.STACK_NOT_FOUND:
            return None
        raise
    if not stacks:
        return None
    s = stacks[0]
    status = StackStatus(s["StackStatus"])
    if status is StackStatus.DELETE_COMPLETE:
        return None
    return StackInfo(
        name=s["StackName"],
        stack_id=s["StackId"],
        status=status,
        reason=s.get("StackStatusReason", ""),
        outputs={o["OutputKey"]: o["OutputValue"] for o in s.get("Outputs", [])},
        parameters={
            p["ParameterKey"]: p.get("ParameterValue", "") for p in s.get("Parameters", [])
        },
        termination_protection=bool(s.get("EnableTerminationProtection")),
        last_updated=str(s.get("LastUpdatedTime") or s.get("CreationTime")),
        tags={t["Key"]: t["Value"] for t in s.get("Tags", [])},
    )


@dataclass(frozen=True)
class StackResource:
    stack: str  # path of logical ids from the root: "" for the root, "Dynamodb" for a nested one
    logical_id: str
    resource_type: str
    physical_id: str
    status: str


def resources(cfn, stack: str) -> list[StackResource]:
    """The stack's resources (one ListStackResources walk)."""
    found = []
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack):
        for r in page["StackResourceSummaries"]:
            found.append(
                StackResource(
                    "",
                    r["LogicalResourceId"],
                    r["ResourceType"],
                    r.get("PhysicalResourceId", ""),
                    r["ResourceStatus"],
                )
            )
    return found


def wait_settled(cfn, name: str, backoff: Backoff, timeout: float) -> StackInfo | None:
    """The stack once no operation runs on it (None when it is gone); wait.Timeout after
    `timeout` seconds."""
    return poll(
        lambda: describe(cfn, name),
        lambda s: s is None or not s.status.in_progress,
        backoff,
        timeout,
    )


def stack_tree(cfn, root: str) -> dict[str, tuple[str, list[StackResource]]]:
    """The root ("") and every nested stack below it, depth first:
    path ('Dynamodb', 'A.B') -> (stack id or name, its resources). One listing per stack."""
    tree: dict[str, tuple[str, list[StackResource]]] = {}

    def walk(stack: str, path: str) -> None:
        found = [
            StackResource(path, r.logical_id, r.resource_type, r.physical_id, r.status)
            for r in resources(cfn, stack)
        ]
        tree[path] = (stack, found)
        for r in found:
            if r.resource_type == "AWS::CloudFormation::Stack" and r.physical_id:
                walk(r.physical_id, f"{path}.{r.logical_id}" if path else r.logical_id)

    walk(root, "")
    return tree
