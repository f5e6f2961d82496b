"""Finishing the environment after an operation: what CloudFormation does not hold (the
nonce), and the guards set outside the stack's template (stack policies, termination
protection); plan shows what finishing would still change."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from mirror_infra.aws.cfn_answers import StackInfo
from mirror_infra.deploy import nonce, protection
from mirror_infra.deploy.context import Deployment
from mirror_infra.deploy.outputs import AppOutputs
from mirror_infra.errors import DeployError
from mirror_infra.names import RootOutput


def restore_stack_policies(dep: Deployment) -> bool:
    """Put the full stack policies back (after an apply that lifted them, whatever its end).
    False when they cannot be yet: an operation still runs (a detach, a timeout)."""
    if not dep.cfg.data_safety.stack_policy:
        return True
    info = dep.cfn.stack(dep.stack_name)
    if info is None:
        return True
    if info.status.in_progress:
        return False
    protection.apply_stack_policies(dep.cfn, info.stack_id)
    return True


@dataclass(frozen=True)
class Finish:
    nonce_name: str
    nonce_created: bool
    policies: int  # stacks with the protecting policy after finishing, read back from AWS
    termination_protection: bool  # read back from AWS
    outputs: AppOutputs  # naming the latest nonce version, the one the application should use


def finish(
    dep: Deployment,
    say: Callable[[str], None] = lambda line: None,
    named: Collection[str] = frozenset(),
) -> Finish:
    """After a successful apply: the nonce, stack policies, termination protection. A guard
    params turn off is turned off only when `named` names it (its plan row was refused
    otherwise); what Finish reports is read back from AWS."""
    cfn = dep.cfn
    info = cfn.stack(dep.stack_name)
    if info is None or not info.status.usable:
        raise DeployError(f"{dep.stack_name} is not deployed; nothing to finish")
    key = info.outputs.get(RootOutput.KMS_KEY_ARN)
    if not key:
        raise DeployError(
            f"{dep.stack_name} has no {RootOutput.KMS_KEY_ARN} output; the template is not ours"
        )
    # protect first: a failure below (the nonce) must not leave a fresh stack unprotected
    safety = dep.cfg.data_safety
    if safety.stack_policy:
        protection.apply_stack_policies(cfn, info.stack_id)
    switched = safety.termination_protection != info.termination_protection
    if safety.termination_protection and not info.termination_protection:
        cfn.set_termination_protection(info.stack_id, True)
    protection.turn_off_named(
        cfn, info.stack_id, named, safety.termination_protection, safety.stack_policy
    )
    policies = protection.policies_in_place(cfn, info.stack_id)
    # what AWS holds: read again only when a call above may have switched it
    after = cfn.stack(info.stack_id) if switched else info
    guarded = bool(after and after.termination_protection)
    name, created, latest = nonce.ensure(dep.ssm, dep.names, key, say)
    refused = _latest_not_under_key(dep, latest, key)
    if refused:
        raise DeployError(refused)
    outputs = AppOutputs(dict(info.outputs), name, dep.target.region)
    return Finish(name, created, policies, guarded, outputs)


def _latest_not_under_key(dep: Deployment, latest: nonce.NonceVersion, key: str) -> str:
    """Why the application cannot use the latest nonce version ("" when it can)."""
    if nonce.under_key(latest, dep.keys(key)):
        return ""
    held = (
        f"encrypted with {latest.key_id or 'no key'}"
        if latest.type == "SecureString"
        else f"a {latest.type}, not a SecureString"
    )
    return (
        f"{latest.name} is {held}, not under the environment's key {key}, so the "
        f"application cannot use it; run '{dep.tool_command('rotate-nonce')}' "
        "to add a version under the current key"
    )


def refuse_unusable_nonce(dep: Deployment, info: StackInfo | None, creating: bool) -> None:
    """What `finish` would refuse about the nonce, said before any change set is made: on a
    create, nonce versions kept from an earlier environment under keys that can no longer
    decrypt (KeyState not Enabled, or gone) — the new key cannot be theirs and the
    application reads every version by path, so the new environment could not use them; on
    an update, a latest version not under the environment's key. Versions under a key that
    still works are left to the plan's name conflicts, which point at 'adopt'."""
    found = nonce.versions(dep.ssm, dep.names)
    if not found:
        return
    if creating:
        keys = dep.keys("")
        states = {v.name: keys.state(v.key_id) for v in found}
        if "Enabled" not in states.values():
            held = "; ".join(
                f"{v.name} under {v.key_id or 'no key'}: {states[v.name] or 'no such key'}"
                for v in found
            )
            raise DeployError(
                f"cannot create {dep.stack_name}: the nonce kept from an earlier "
                f"{dep.cfg.name} is encrypted under a key that can no longer decrypt ({held}), "
                "and the application reads every version, so the new environment could not "
                "use it; if nothing redacted with it must still match, delete it with "
                f"'{dep.tool_command('destroy', '--delete-nonce')}' (the stack is "
                "gone: it deletes only the nonce, after asking), then plan again; nothing was "
                "changed"
            )
        return
    key = info.outputs.get(RootOutput.KMS_KEY_ARN) if info is not None else None
    if key:
        refused = _latest_not_under_key(dep, found[-1], key)
        if refused:
            raise DeployError(f"{refused}; nothing was changed")


def pending_finish(dep: Deployment) -> list[str]:
    """What `finish` would change outside CloudFormation on the deployed stack (for plan)."""
    info = dep.cfn.stack(dep.stack_name)
    if info is None or not info.status.usable:
        return []
    todo = []
    if not nonce.versions(dep.ssm, dep.names):
        todo.append(f"create the redaction nonce {dep.names.nonce_parameter(1)} (SecureString)")
    safety = dep.cfg.data_safety
    # turning a guard off is a plan row (protection.guard_rows), not a finishing step
    if safety.termination_protection and not info.termination_protection:
        todo.append("turn termination protection on (it is off now)")
    if safety.stack_policy and not protection.stack_policies_in_place(dep.cfn, info.stack_id):
        todo.append(
            "set the stack policies that deny replacing or deleting stateful resources (they "
            "are lifted or changed now)"
        )
    from mirror_infra.deploy.window import unprotected_tables

    off = unprotected_tables(dep, info.stack_id)
    if off:  # apply restores it before anything else (deploy/closing.py)
        todo.append(f"turn deletion protection back on for {', '.join(sorted(off.values()))}")
    return todo
