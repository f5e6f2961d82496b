"""Production's guard rails: termination protection and stack policies that deny replacing or
deleting stateful resources (on the root and on every nested stack that holds them).

Guards are data too (SPEC §3): turning one off through params is a plan row of the same
refused-unless-named class as a change that loses data, named `--allow-data-loss
TerminationProtection` or `--allow-data-loss StackPolicy`; nothing turns a guard off unnamed.
"""

from __future__ import annotations

import json
from collections.abc import Collection

from awacs.aws import Action, Allow, Deny, PolicyDocument, Principal, Statement

from mirror_infra.aws.cloudformation import CloudFormation
from mirror_infra.aws.status import ChangeAction
from mirror_infra.deploy.changes import Change
from mirror_infra.deploy.context import Deployment
from mirror_infra.deploy.risk import STATEFUL_TYPES, Risk

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


def _protecting(cfn: CloudFormation, root: str) -> dict[str, bool]:
    """Per stack holding stateful resources: whether it has exactly the protecting policy."""
    found = {}
    for stack_id, policy in _wanted_policies(cfn, root, set()).items():
        body = cfn.stack_policy(stack_id)
        found[stack_id] = bool(body) and json.loads(body) == json.loads(policy.to_json())
    return found


def stack_policies_in_place(cfn: CloudFormation, root: str) -> bool:
    """Every stack holding stateful resources has exactly the protecting policy."""
    return all(_protecting(cfn, root).values())


def policies_in_place(cfn: CloudFormation, root: str) -> int:
    """How many stacks have the protecting policy now, read back from AWS."""
    return sum(_protecting(cfn, root).values())


def _denying(cfn: CloudFormation, root: str) -> list[str]:
    """The stacks whose current policy denies any update (a guard in place)."""
    denying = []
    for node in cfn.tree(root):
        body = cfn.stack_policy(node.stack_id)
        statements = json.loads(body).get("Statement", []) if body else []
        if any(s.get("Effect") == "Deny" for s in statements if isinstance(s, dict)):
            denying.append(node.stack_id)
    return denying


def lift_stack_policies(cfn: CloudFormation, root: str) -> None:
    """Turn the stack policies off: AWS cannot remove a stack policy, so each stack that denies
    anything gets one that allows every update."""
    for stack_id in _denying(cfn, root):
        cfn.put_policy(stack_id, stack_policy([]).to_json())


# --- guards as plan rows -----------------------------------------------------------------------

TERMINATION_PROTECTION = "TerminationProtection"
STACK_POLICY = "StackPolicy"
GUARD_NAMES = frozenset({TERMINATION_PROTECTION, STACK_POLICY})
GUARD_TYPE = "Stack guard"  # not a CloudFormation resource: set on the stack itself


def _guard(name: str, prop: str, stack_name: str, reason: str) -> Change:
    return Change(
        stack="",
        action=ChangeAction.MODIFY,
        logical_id=name,
        resource_type=GUARD_TYPE,
        replacement="",
        properties=(prop,),
        physical_id=stack_name,
        risk=Risk.LOSES_DATA,
        reason=reason,
    )


def is_guard(change: Change) -> bool:
    return change.resource_type == GUARD_TYPE and not change.stack


def guard_rows(dep: Deployment) -> list[Change]:
    """The guards in place on the deployed stack that params now turn off, each a row refused
    unless named."""
    cfn, stack_name, safety = dep.cfn, dep.stack_name, dep.cfg.data_safety
    info = cfn.stack(stack_name)
    if info is None or not info.status.usable:
        return []
    rows = []
    if info.termination_protection and not safety.termination_protection:
        rows.append(
            _guard(
                TERMINATION_PROTECTION,
                "EnableTerminationProtection",
                stack_name,
                "termination protection turned off (params data_safety.termination_protection: "
                "false): the stack, and with it every resource not kept by Retain, can then be "
                "deleted",
            )
        )
    denying = _denying(cfn, info.stack_id) if not safety.stack_policy else []
    if denying:
        rows.append(
            _guard(
                STACK_POLICY,
                "StackPolicy",
                stack_name,
                f"stack policies turned off on {len(denying)} stack(s) (params "
                "data_safety.stack_policy: false): replacing or deleting stateful resources is "
                "no longer denied",
            )
        )
    return rows


def turn_off_named(
    cfn: CloudFormation,
    stack_id: str,
    named: Collection[str],
    termination_protection: bool,
    stack_policies: bool,
) -> None:
    """Turn off the guards that params turn off, and only those the user named."""
    if TERMINATION_PROTECTION in named and not termination_protection:
        cfn.set_termination_protection(stack_id, False)
    if STACK_POLICY in named and not stack_policies:
        lift_stack_policies(cfn, stack_id)
