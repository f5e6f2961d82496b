"""The delete operation (DeleteStack, and a create's OnFailure DELETE): every resource once what
uses it has gone; DeletionPolicy Retain honoured (unless a failed create is undone);
DELETE_FAILED when one cannot go."""

from __future__ import annotations

from moto.cloudformation.models import Stack

from localaws.cfn import handlers
from localaws.cfn.intrinsics import TemplateError, dependencies, dependency_order
from localaws.cfn.stacks import event
from localaws.cfn.state import Resource
from localaws.cfn.waves import in_waves
from localaws.providers.base import utcnow


# delete ----------
def undo_policy(rec: Resource, undo_create: str) -> str | None:
    """The DeletionPolicy that applies when a failed create is undone: RetainExceptOnCreate
    resources go ("If the stack operation that created the resource is rolled back,
    CloudFormation deletes the resource"), Retain ones too when the operation asked for
    RetainExceptOnCreate (API_ExecuteChangeSet.html)."""
    policy = rec.deletion_policy
    if undo_create and rec.imported:
        return "Retain"  # the operation did not create it: undoing it forgets, never deletes
    if undo_create and policy == "RetainExceptOnCreate":
        return "Delete"
    if undo_create == "retain-except-on-create" and policy == "Retain":
        return "Delete"
    return None


def run(stack: Stack, undo_create: str = "") -> None:
    """Delete every resource (Retain ones are skipped, unless a failed create is undone, see
    `_undo_policy`); DELETE_FAILED if one cannot go."""
    st = stack.local
    event(stack, "DELETE_IN_PROGRESS", "User Initiated")
    order = _deletion_order(stack)
    records = {rec.logical_resource_id: rec for rec in order}
    body = st.template.get("Resources") or {}
    try:
        uses = dependencies(st.template, lambda lid: lid in records and lid in body)
    except TemplateError:
        uses = {}
    # a resource goes once every resource that uses it has gone
    needs = {lid: {user for user, used in uses.items() if lid in used} for lid in records}

    def remove(logical_id: str) -> None:
        rec = records[logical_id]
        handlers.delete_resource(stack, rec, undo_policy(rec, undo_create), undo_create)
        del st.resources[logical_id]

    failed = in_waves(list(records), needs, remove, keep_going=True)
    if failed:
        event(
            stack,
            "DELETE_FAILED",
            f"The following resource(s) failed to delete: [{', '.join(sorted(failed))}]. ",
        )
        return
    st.resources.clear()
    st.deletion_time = utcnow()
    event(stack, "DELETE_COMPLETE")
    backend = stack.backend
    backend.stacks.pop(stack.stack_id, None)
    backend.deleted_stacks[stack.stack_id] = stack


def _deletion_order(stack: Stack) -> list[Resource]:
    st = stack.local
    body = st.template.get("Resources") or {}
    try:
        order = dependency_order(st.template, lambda lid: lid in st.resources and lid in body)
    except TemplateError:
        order = list(st.resources)
    order += [lid for lid in st.resources if lid not in order]
    return [st.resources[lid] for lid in reversed(order)]
