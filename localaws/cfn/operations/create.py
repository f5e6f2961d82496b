"""The create operation (CreateStack, and the execution of a CREATE change set): every resource
in dependency order; on a failure, rolled back as OnFailure and RetainExceptOnCreate say."""

from __future__ import annotations

import json

from moto.cloudformation.models import Stack

from localaws.cfn import handlers, import_rules
from localaws.cfn.intrinsics import Evaluator
from localaws.cfn.loading import load
from localaws.cfn.operations import delete
from localaws.cfn.stacks import evaluator, event, finish
from localaws.cfn.state import Resource
from localaws.cfn.waves import in_dependency_order
from localaws.providers.base import ResourceFailure, handler_message


# create ----------
def run(
    stack: Stack,
    body: str | dict,
    given: dict[str, str],
    capabilities: list | None = None,
    on_failure: str = "ROLLBACK",
    retain_except_on_create: bool = False,
) -> None:
    """Create every resource of `body`. On a failure (API_CreateStack OnFailure): ROLLBACK
    (ROLLBACK_COMPLETE), DELETE (rolled back, then the stack deleted) or DO_NOTHING
    (CREATE_FAILED, what was created is kept)."""
    template, params, no_echo = load(stack, body, given)
    st = stack.local
    st.template, st.parameters, st.given_parameters, st.no_echo = template, params, given, no_echo
    st.capabilities = list(capabilities or [])
    stack.template = body if isinstance(body, str) else json.dumps(body)
    stack.template_dict = template
    stack.description = template.get("Description")
    event(stack, "CREATE_IN_PROGRESS", "User Initiated")
    ev = evaluator(stack, template, params, st.resources)
    failed = None
    try:
        failed = _create_all(stack, template, ev)
        if failed is not None:
            raise ResourceFailure(failed)
    except Exception:  # noqa: BLE001
        reason = f"The following resource(s) failed to create: [{failed}]. "
        if on_failure == "DO_NOTHING":
            event(stack, "CREATE_FAILED", reason)
            return
        _rollback_create(stack, failed, retain_except_on_create)
        if on_failure == "DELETE" and stack.status == "ROLLBACK_COMPLETE":
            delete.run(stack)
        return
    finish(stack, body, template)
    event(stack, "CREATE_COMPLETE")


def _create_one(stack: Stack, ev: Evaluator, logical_id: str, spec: dict) -> None:
    """Create one resource and record it; on a failure, its CREATE_FAILED event, then raise."""
    st = stack.local
    failed_status = "CREATE_FAILED"
    try:
        props = ev.resolve(spec.get("Properties") or {}) or {}
        target = None
        if st.import_existing:
            target = import_rules.auto_import_target(stack, logical_id, spec, props)
        if target is not None:
            failed_status = "IMPORT_FAILED"
            rec = handlers.import_resource(stack, logical_id, spec, props, target)
        else:
            rec = handlers.create_resource(stack, logical_id, spec, props)
    except Exception as exc:  # noqa: BLE001 - reported as AWS reports it, then rolled back
        rec = Resource(logical_id, spec["Type"], properties={})
        made = getattr(exc, "physical_id", None)
        if made is not None:  # it exists (a nested stack that failed): the rollback deletes it
            rec.physical_resource_id = made
            st.resources[logical_id] = rec
        event(stack, failed_status, handler_message(exc), resource=rec)
        raise
    st.resources[logical_id] = rec


def _create_all(stack: Stack, template: dict, ev: Evaluator) -> str | None:
    """Create every resource once its dependencies exist; the first that failed, or None."""
    resources = template["Resources"]
    return in_dependency_order(
        template, ev, lambda lid: _create_one(stack, ev, lid, resources[lid])
    )


def _rollback_create(stack: Stack, failed: str | None, retain_except_on_create: bool) -> None:
    """Delete what the failed create made. RetainExceptOnCreate resources go too ("If the stack
    operation that created the resource is rolled back, CloudFormation deletes the resource"),
    and so do Retain ones when the operation asked for RetainExceptOnCreate."""
    st = stack.local
    event(
        stack,
        "ROLLBACK_IN_PROGRESS",
        f"The following resource(s) failed to create: [{failed}]. Rollback requested by user.",
    )
    ok = True
    undo = "retain-except-on-create" if retain_except_on_create else "plain"
    for rec in reversed(list(st.resources.values())):
        policy = delete.undo_policy(rec, undo) or rec.deletion_policy
        try:
            handlers.delete_resource(stack, rec, policy, undo)
            if policy != "Retain":
                del st.resources[rec.logical_resource_id]
        except ResourceFailure:
            ok = False
    if ok:
        st.resources.clear()
    event(stack, "ROLLBACK_COMPLETE" if ok else "ROLLBACK_FAILED", st.status_reason)
    st.status_reason = f"The following resource(s) failed to create: [{failed}]. "
