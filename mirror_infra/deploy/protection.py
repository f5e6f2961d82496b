"""Production's guard rails: termination protection and stack policies that deny replacing or
deleting stateful resources (on the root and on every nested stack that holds them)."""

from __future__ import annotations

from awacs.aws import Action, Allow, Deny, PolicyDocument, Principal, Statement

from mirror_infra.aws.cloudformation import CloudFormation
from mirror_infra.deploy.risk import STATEFUL_TYPES

UPDATE_ANY = Action("Update", "*")
UPDATE_REPLACE = Action("Update", "Replace")
UPDATE_DELETE = Action("Update", "Delete")


def stack_policy(protected: list[str]) -> PolicyDocument:
    """Allow every update except replacing or deleting the named logical ids."""
    statements = [
        Statement(Effect=Allow, Principal=Principal("*"), Action=[UPDATE_ANY], Resource=["*"])
    ]
    if protected:
        statements.append(
            Statement(
                Effect=Deny,
                Principal=Principal("*"),
                Action=[UPDATE_REPLACE, UPDATE_DELETE],
                Resource=[f"LogicalResourceId/{name}" for name in sorted(protected)],
            )
        )
    return PolicyDocument(Statement=statements)


def _wanted_policies(
    cfn: CloudFormation, root: str, allowed: set[str]
) -> dict[str, PolicyDocument]:
    """Per stack holding stateful resources: the policy protecting them (less `allowed`)."""
    wanted = {}
    for node in cfn.tree(root):
        stateful = [r for r in node.resources if r.resource_type in STATEFUL_TYPES]
        if stateful:
            ids = [r.logical_id for r in stateful if not r.path.named_by(allowed)]
            wanted[node.stack_id] = stack_policy(ids)
    return wanted


def apply_stack_policies(cfn: CloudFormation, root: str, allowed: set[str] = frozenset()) -> int:
    """Set the policy on every stack holding stateful resources; returns how many stacks.
    `allowed` are qualified or plain logical ids left unprotected (for a named replacement)."""
    wanted = _wanted_policies(cfn, root, allowed)
    for stack_id, policy in wanted.items():
        cfn.put_policy(stack_id, policy.to_json())
    return len(wanted)


def stack_policies_in_place(cfn: CloudFormation, root: str) -> bool:
    """Every stack holding stateful resources has exactly the protecting policy."""
    import json

    for stack_id, policy in _wanted_policies(cfn, root, set()).items():
        body = cfn.stack_policy(stack_id)
        if not body or json.loads(body) != json.loads(policy.to_json()):
            return False
    return True
