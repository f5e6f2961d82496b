"""The unprotected window: guards the params require that AWS does not hold, read from AWS
(never from a local file: the next command may run on another machine).

Production's first create runs on a copy of the templates with table deletion protection off
(`first_create.py`), and termination protection and the stack policies are set only once the
create has succeeded (`finishing.py`). An apply stopped in between (Ctrl-C, a detach, a lost
connection, kill -9) leaves the guards missing; so may a detach during a named replacement
(the policies stay lifted). `status`, `verify` and `drift` report such a window without
writing; the next command that changes the environment closes it first (`closing.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mirror_infra.aws.cfn_answers import StackInfo
from mirror_infra.aws.status import StackStatus
from mirror_infra.deploy import protection
from mirror_infra.deploy.context import Deployment
from mirror_infra.deploy.first_create import TABLE

# a stack in these states holds no resource: nothing to guard
HOLDS_NOTHING = (
    StackStatus.REVIEW_IN_PROGRESS,
    StackStatus.ROLLBACK_COMPLETE,
    StackStatus.DELETE_COMPLETE,
)


@dataclass
class Window:
    """The guards that params require and AWS does not hold on the deployed environment."""

    stack: StackInfo
    termination_protection: bool = False  # missing
    stack_policies: bool = False  # missing (lifted, changed or never set)
    tables: dict[str, str] = field(default_factory=dict)  # qualified logical id -> table name

    @property
    def open(self) -> bool:
        return self.termination_protection or self.stack_policies or bool(self.tables)

    def missing(self) -> list[str]:
        """Each guard that is off, in a few words."""
        off = []
        if self.termination_protection:
            off.append("termination protection off")
        if self.stack_policies:
            off.append("stack policies missing or lifted")
        if self.tables:
            off.append(f"deletion protection off on {', '.join(sorted(self.tables.values()))}")
        return off

    def describe(self, dep: Deployment) -> str:
        """One line naming what is unprotected and the command that closes the window."""
        running = (
            f" (an operation is still running: {self.stack.status})"
            if self.stack.status.in_progress
            else ""
        )
        return (
            f"{dep.stack_name} is unprotected: {'; '.join(self.missing())}{running}; "
            f"run '{closing_command(dep)}': it restores them before anything else"
        )


def closing_command(dep: Deployment) -> str:
    return dep.tool_command("apply")


def wants_guards(dep: Deployment) -> bool:
    safety = dep.cfg.data_safety
    return safety.termination_protection or safety.stack_policy or safety.table_deletion_protection


def read(dep: Deployment, info: StackInfo | None = None) -> Window | None:
    """What AWS holds against what params require; None when there is nothing to guard (no
    stack, one that holds nothing, or params that want no guard). Reads only."""
    if not wants_guards(dep):
        return None
    info = info or dep.cfn.stack(dep.stack_name)
    if info is None or info.status in HOLDS_NOTHING:
        return None
    safety = dep.cfg.data_safety
    window = Window(info)
    window.termination_protection = (
        safety.termination_protection and not info.termination_protection
    )
    window.stack_policies = safety.stack_policy and not protection.stack_policies_in_place(
        dep.cfn, info.stack_id
    )
    window.tables = unprotected_tables(dep, info.stack_id)
    return window


def unprotected_tables(dep: Deployment, stack_id: str) -> dict[str, str]:
    """The stack's tables whose deletion protection is off (qualified logical id -> table
    name), as DynamoDB holds it, when params want it on; {} otherwise."""
    if not dep.cfg.data_safety.table_deletion_protection:
        return {}
    return {
        str(r.path): r.physical_id
        for node in dep.cfn.tree(stack_id)
        for r in node.resources
        if r.resource_type == TABLE
        and r.physical_id
        and dep.dynamodb.deletion_protection(r.physical_id) is False
    }
