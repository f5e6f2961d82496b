"""The environment's own guards as its params ask: termination protection on the root stack,
and the stack policies that deny replacing or deleting stateful resources (not lifted)."""

from __future__ import annotations

from mirror_infra.checks.base import Check, Environment, Evidence
from mirror_infra.deploy.protection import stack_policies_in_place
from mirror_infra.deploy.window import closing_command, unprotected_tables

ID = "protection"
DESCRIPTION = (
    "Termination protection, stack policies and the tables' deletion protection as the params ask"
)


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
    tables = unprotected_tables(env.dep, env.stack.stack_id)
    if tables:
        off.append(
            (
                "DeletionProtection",
                "on for every table",
                f"off on {', '.join(sorted(tables.values()))}",
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
    if safety.table_deletion_protection:
        ev.expect(
            "DeletionProtection" not in wrong,
            "table deletion protection "
            + wrong.get("DeletionProtection", ("", "on for every table"))[1],
            "on for every table",
        )
    missing = {"StackPolicy", "DeletionProtection"} & set(wrong)
    if missing or (tp_found, tp_wanted) == ("off", "on"):
        # a guard the params want and AWS does not hold: an unprotected window
        ev.advice.append(
            f"unprotected: run '{closing_command(env.dep)}', which restores the guards before "
            "anything else"
        )
    return ev.check("protection")
