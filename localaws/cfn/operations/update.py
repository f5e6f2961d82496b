"""The update operation (UpdateStack, and the execution of an UPDATE change set, drift-aware
ones included): resources updated in place, replaced or refused as AWS does, under the stack
policy; a failure rolls back (UPDATE_ROLLBACK_COMPLETE, or UPDATE_ROLLBACK_FAILED until
ContinueUpdateRollback, also here)."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Mapping
from dataclasses import dataclass

from moto.cloudformation.models import Stack

from localaws import pacing
from localaws.cfn import drift_aware, handlers, import_rules, stack_policy
from localaws.cfn.intrinsics import Evaluator
from localaws.cfn.loading import load
from localaws.cfn.stacks import cancelled, evaluator, event, finish, root_of
from localaws.cfn.state import Resource
from localaws.cfn.waves import in_dependency_order
from localaws.providers.base import ResourceFailure, handler_message, utcnow


@dataclass
class _Journal:
    created: list[Resource]
    modified: list[tuple[Resource, dict, Mapping]]  # record, old properties, old attributes
    replaced: list[tuple[Resource, Resource]]  # new record, old record


def run(
    stack: Stack,
    body: str | dict,
    given: dict[str, str],
    disable_rollback: bool = False,
    revert_drift: bool = False,
) -> None:
    """Apply a new template/parameters in place; on a failure, roll back — or, with
    `disable_rollback`, stop at UPDATE_FAILED keeping what was done (API_UpdateStack).
    `revert_drift` (a drift-aware change set) starts from the resources' actual state."""
    template, params, no_echo = load(stack, body, given)
    if revert_drift:
        drift_aware.revert_actual(stack)
    st = stack.local
    if not st.parent_id:
        st.cancel_requested = False
    event(stack, "UPDATE_IN_PROGRESS", "User Initiated")
    journal = _Journal([], [], [])
    current = dict(st.resources)
    ev = evaluator(stack, template, params, current)
    failed = None

    def step(logical_id: str) -> None:
        spec = template["Resources"][logical_id]
        try:
            _update_step(stack, ev, logical_id, spec, current, journal)
        except Exception as exc:  # noqa: BLE001
            rec = current.get(logical_id) or Resource(logical_id, spec["Type"])
            status = "UPDATE_FAILED" if logical_id in st.resources else "CREATE_FAILED"
            reason = handler_message(exc)
            if isinstance(exc, pacing.Cancelled):
                reason = "Resource update cancelled"
            event(stack, status, reason, resource=rec)
            raise

    try:
        failed = in_dependency_order(template, ev, step, lambda: cancelled(stack))
        if failed is not None:
            raise ResourceFailure(failed)
        removed = [r for lid, r in st.resources.items() if lid not in _kept(template, ev)]
        for rec in removed:
            stack_policy.check(
                stack, "Update:Delete", rec.logical_resource_id, rec.cf_resource_type
            )
    except Exception:  # noqa: BLE001
        if disable_rollback and not cancelled(stack):
            st.resources = {**st.resources, **current}
            event(
                stack, "UPDATE_FAILED", f"The following resource(s) failed to update: [{failed}]. "
            )
            return
        _rollback_update(stack, journal, failed, current)
        return
    # cleanup: resources no longer in the template, and the old halves of replacements
    st.template, st.parameters, st.given_parameters, st.no_echo = template, params, given, no_echo
    st.resources = {lid: current[lid] for lid in current if lid in _kept(template, ev)}
    event(stack, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    for old_rec in [o for _, o in journal.replaced]:
        # a failed cleanup does not fail the update: AWS leaves the old resource behind
        with contextlib.suppress(ResourceFailure):
            handlers.delete_resource(stack, old_rec, old_rec.update_replace_policy)
    for rec in reversed(removed):
        with contextlib.suppress(ResourceFailure):
            handlers.delete_resource(stack, rec)
    finish(stack, body, template)
    st.last_updated = utcnow()
    event(stack, "UPDATE_COMPLETE")


def _kept(template: dict, ev: Evaluator) -> set[str]:
    return {lid for lid in template["Resources"] if ev.included(lid)}


def _update_step(
    stack: Stack,
    ev: Evaluator,
    logical_id: str,
    spec: dict,
    current: dict[str, Resource],
    journal: _Journal,
) -> None:
    props = ev.resolve(spec.get("Properties") or {}) or {}
    rec = current.get(logical_id)
    if rec is None:
        stack_policy.check(stack, "Update:Create", logical_id, spec["Type"])
        target = None
        if stack.local.import_existing:
            target = import_rules.auto_import_target(stack, logical_id, spec, props)
        if target is not None:
            # an import is not undone by deleting: a rollback only forgets it
            current[logical_id] = handlers.import_resource(stack, logical_id, spec, props, target)
            return
        new = handlers.create_resource(stack, logical_id, spec, props)
        current[logical_id] = new
        journal.created.append(new)
        return
    if rec.cf_resource_type != spec["Type"]:
        raise ResourceFailure(
            f"Update of resource type is not permitted. The new template modifies resource type "
            f"of the following resources: [{logical_id}]"
        )
    rec.deletion_policy = spec.get("DeletionPolicy", "Delete")
    rec.update_replace_policy = spec.get("UpdateReplacePolicy", "Delete")
    if props == rec.properties:
        return
    replace = handlers.replacing_properties(rec.cf_resource_type, rec.properties, props)
    if not replace:
        stack_policy.check(stack, "Update:Modify", logical_id, spec["Type"])
        old_props, old_attrs = rec.properties, copy.copy(rec.attributes)
        handlers.update_resource(stack, rec, props)
        journal.modified.append((rec, old_props, old_attrs))
        return
    stack_policy.check(stack, "Update:Replace", logical_id, spec["Type"])
    name_prop = handlers.name_property(rec.cf_resource_type)
    if name_prop and props.get(name_prop) and props.get(name_prop) == rec.properties.get(name_prop):
        raise ResourceFailure(
            "CloudFormation cannot update a stack when a custom-named resource requires "
            f"replacing. Rename {props[name_prop]} and update the stack again."
        )
    event(
        stack,
        "UPDATE_IN_PROGRESS",
        "Requested update requires the creation of a new physical resource; hence creating one.",
        resource=rec,
    )
    new = handlers.create_resource(stack, logical_id, spec, props)
    current[logical_id] = new
    journal.replaced.append((new, rec))


def _rollback_update(
    stack: Stack, journal: _Journal, failed: str | None, current: dict[str, Resource]
) -> None:
    st = stack.local
    reason = f"The following resource(s) failed to update: [{failed}]. "
    if failed is None and root_of(stack).local.cancel_requested:
        reason = "Stack update cancelled"
    event(stack, "UPDATE_ROLLBACK_IN_PROGRESS", reason)
    st.pending_rollback = (journal, list(reversed(journal.modified)), reason)
    _continue_rollback(stack, set())


def continue_rollback(stack: Stack, skip: set[str]) -> None:
    """ContinueUpdateRollback: roll back again what failed to roll back, leaving the resources
    in `skip` as they are (AWS marks them UPDATE_COMPLETE)."""
    event(stack, "UPDATE_ROLLBACK_IN_PROGRESS", "User Initiated")
    _continue_rollback(stack, skip)


def _continue_rollback(stack: Stack, skip: set[str]) -> None:
    st = stack.local
    journal, todo, reason = st.pending_rollback
    stuck = []
    for item in todo:
        rec, old_props, old_attrs = item
        if rec.logical_resource_id in skip:
            event(stack, "UPDATE_COMPLETE", "Resource skipped during rollback", resource=rec)
            continue
        try:
            handlers.update_resource(stack, rec, old_props, forward=False)
            rec.attributes = old_attrs
        except Exception as exc:  # noqa: BLE001
            event(stack, "UPDATE_FAILED", handler_message(exc), resource=rec)
            stuck.append(item)
    if stuck:
        # AWS stops here; ContinueUpdateRollback (with ResourcesToSkip) is the way out
        st.pending_rollback = (journal, stuck, reason)
        names = ", ".join(r.logical_resource_id for r, _, _ in stuck)
        event(
            stack,
            "UPDATE_ROLLBACK_FAILED",
            f"The following resource(s) failed to update: [{names}]. ",
        )
        return
    st.pending_rollback = None
    event(stack, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
    for new, old_rec in reversed(journal.replaced):
        with contextlib.suppress(ResourceFailure):
            handlers.delete_resource(stack, new, "Delete")
        event(stack, "UPDATE_COMPLETE", resource=old_rec)
    for rec in reversed(journal.created):
        with contextlib.suppress(ResourceFailure):
            handlers.delete_resource(stack, rec, "Delete")
    event(stack, "UPDATE_ROLLBACK_COMPLETE")
    st.status_reason = reason
