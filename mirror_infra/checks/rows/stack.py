"""The root stack and every nested stack finished deploying; no resource failed."""

from __future__ import annotations

from mirror_infra.checks.base import Check, Environment, Evidence

ID = "stack"
DESCRIPTION = "Root and nested stacks complete"


def stack_row(env: Environment) -> Check:
    """The root stack and every nested stack finished deploying; no resource failed."""
    ev = Evidence()
    status = env.stack.status
    ev.expect(status.succeeded, status.value, "CREATE_COMPLETE or UPDATE_COMPLETE")
    resources = [r for node in env.dep.cfn.tree(env.stack.stack_id) for r in node.resources]
    nested = [r for r in resources if r.is_stack]
    unfinished = sorted(
        f"{r.path} {r.status}"
        for r in resources
        if not r.status.endswith("_COMPLETE") or "DELETE" in r.status or "ROLLBACK" in r.status
    )
    ev.fact(f"{len(nested)} nested stacks, {len(resources)} resources")
    ev.expect(not unfinished, "; ".join(unfinished) or "all complete", "every resource complete")
    return ev.check(f"stack {env.stack.name}")
