"""The environment's own guards as its params ask: termination protection on the root stack,
and the stack policies that deny replacing or deleting stateful resources (not lifted)."""

from __future__ import annotations

from mirror_infra.checks.base import Check, Environment, Evidence
from mirror_infra.deploy.protection import stack_policies_in_place

ID = "protection"
DESCRIPTION = "Termination protection and stack policies as the params ask"


def guards(env: Environment) -> list[tuple[str, str, str]]:
    """Each guard that is not as the params ask: (what, wanted, found)."""
    safety = env.dep.cfg.data_safety
    off = []
    if env.stack.termination_protection != safety.termination_protection:
        off.append(
            (
                "TerminationProtection",
                "on" if safety.termination_protection else "off",
                "on" if env.stack.termination_protection else "off",
            )
        )
    if safety.stack_policy and not stack_policies_in_place(env.dep.cfn, env.stack.stack_id):
        off.append(
            (
                "StackPolicy",
                "denies Update:Replace and Update:Delete on every stateful resource",
                "lifted or changed",
            )
        )
    return off


def protection_row(env: Environment) -> Check:
    safety = env.dep.cfg.data_safety
    ev = Evidence()
    wrong = {what: (wanted, found) for what, wanted, found in guards(env)}
    tp_wanted = "on" if safety.termination_protection else "off"
    tp_found = wrong.get("TerminationProtection", (tp_wanted, tp_wanted))[1]
    ev.expect(
        "TerminationProtection" not in wrong,
        f"termination protection {tp_found}",
        f"termination protection {tp_wanted}",
    )
    if safety.stack_policy:
        ev.expect(
            "StackPolicy" not in wrong,
            "stack policies " + ("lifted or changed" if "StackPolicy" in wrong else "in place"),
            "stack policies in place",
        )
    else:
        ev.fact("no stack policies (params: stack_policy false)")
    return ev.check("protection")
