"""Production's guard rails: termination protection and stack policies that deny replacing or
deleting stateful resources (on the root and on every nested stack that holds them)."""

from __future__ import annotations

from awacs.aws import Action, Allow, Deny, PolicyDocument, Principal, Statement

from mirror_infra.deploy import stacks
from mirror_infra.deploy.plan import STATEFUL_TYPES

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


def _wanted_policies(cfn, root: str, allowed: set[str]) -> dict[str, PolicyDocument]:
    """Per stack holding stateful resources: the policy protecting them (less `allowed`)."""
    wanted = {}
    for path, (stack_id, found) in stacks.stack_tree(cfn, root).items():
        if not any(r.resource_type in STATEFUL_TYPES for r in found):
            continue
        ids = [
            r.logical_id
            for r in found
            if r.resource_type in STATEFUL_TYPES
            and r.logical_id not in allowed
            and (f"{path}.{r.logical_id}" if path else r.logical_id) not in allowed
        ]
        wanted[stack_id] = stack_policy(ids)
    return wanted


def apply_stack_policies(cfn, root: str, allowed: set[str] = frozenset()) -> int:
    """Set the policy on every stack holding stateful resources; returns how many stacks.
    `allowed` are qualified or plain logical ids left unprotected (for a named replacement)."""
    wanted = _wanted_policies(cfn, root, allowed)
    for stack_id, policy in wanted.items():
        cfn.set_stack_policy(StackName=stack_id, StackPolicyBody=policy.to_json())
    return len(wanted)


def stack_policies_in_place(cfn, root: str) -> bool:
    """Every stack holding stateful resources has exactly the protecting policy."""
    import json

    for stack_id, policy in _wanted_policies(cfn, root, set()).items():
        body = cfn.get_stack_policy(StackName=stack_id).get("StackPolicyBody")
        if not body or json.loads(body) != json.loads(policy.to_json()):
            return False
    return True


def set_termination_protection(cfn, root: str, enabled: bool) -> None:
    cfn.update_termination_protection(StackName=root, EnableTerminationProtection=enabled)
