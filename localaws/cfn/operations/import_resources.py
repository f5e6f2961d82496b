"""The import operation (the execution of an IMPORT change set): each resource to import is
brought under the stack (IMPORT_IN_PROGRESS -> IMPORT_COMPLETE) without being changed; the
stack goes IMPORT_IN_PROGRESS -> IMPORT_COMPLETE, or on a failure IMPORT_ROLLBACK_IN_PROGRESS ->
IMPORT_ROLLBACK_COMPLETE ("Import will roll back to the previous template configuration",
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resource-import.html): what was
imported is forgotten again, never deleted."""

from __future__ import annotations

from moto.cloudformation.models import Stack

from localaws.cfn import handlers, nesting
from localaws.cfn.intrinsics import dependency_order
from localaws.cfn.loading import load
from localaws.cfn.stacks import evaluator, event, finish
from localaws.cfn.state import Resource
from localaws.providers.base import handler_message, utcnow


def run(
    stack: Stack,
    body: str,
    given: dict[str, str],
    to_import: dict[str, str],
    capabilities: list[str],
) -> None:
    """Import `to_import` (logical id -> physical id) with the template `body`."""
    template, params, no_echo = load(stack, body, given)
    st = stack.local
    event(stack, "IMPORT_IN_PROGRESS", "User Initiated")
    known = dict(st.resources)
    ev = evaluator(stack, template, params, known)
    done: list[Resource] = []
    failed = None
    for logical_id in dependency_order(template, ev.included):
        if logical_id not in to_import:
            continue
        spec = template["Resources"][logical_id]
        try:
            props = ev.resolve(spec.get("Properties") or {}) or {}
            rec = handlers.import_resource(stack, logical_id, spec, props, to_import[logical_id])
        except Exception as exc:  # noqa: BLE001 - reported as AWS reports it, then rolled back
            failed = Resource(logical_id, spec["Type"], to_import[logical_id])
            event(stack, "IMPORT_FAILED", handler_message(exc), resource=failed)
            break
        known[logical_id] = rec
        done.append(rec)
    if failed is not None:
        reason = f"The following resource(s) failed to import: [{failed.logical_resource_id}]. "
        event(stack, "IMPORT_ROLLBACK_IN_PROGRESS", reason)
        for rec in reversed(done):
            nesting.unnest(stack, rec)  # a stack nested by this import is standalone again
            event(stack, "IMPORT_ROLLBACK_IN_PROGRESS", resource=rec)
            event(stack, "IMPORT_ROLLBACK_COMPLETE", resource=rec)
        event(stack, "IMPORT_ROLLBACK_COMPLETE", reason)
        return
    st.resources.update({rec.logical_resource_id: rec for rec in done})
    st.template, st.parameters, st.given_parameters, st.no_echo = template, params, given, no_echo
    st.capabilities = list(capabilities)
    finish(stack, body, template)
    st.last_updated = utcnow()
    event(stack, "IMPORT_COMPLETE")
