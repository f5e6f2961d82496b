"""One resource's create, import, update and delete within a stack operation, with its events,
the fault switch and AWS's pace, through the provider of its type (cfn/registry.py; a nested
stack's is one of them); and which property changes force a replacement (the resource
schemas' createOnlyProperties)."""

from __future__ import annotations

from moto.cloudformation.models import Stack

from localaws import pacing
from localaws.cfn import schema
from localaws.cfn.registry import provider_for
from localaws.cfn.stacks import cancelled, ctx, event
from localaws.cfn.state import Resource
from localaws.providers.base import ResourceFailure, handler_message


def name_property(type_name: str) -> str | None:
    """The property that names a resource (custom names cannot be replaced in place)."""
    ids = schema.resource_schema(type_name).get("primaryIdentifier", [])
    create_only = schema.create_only(type_name)
    for pointer in ids:
        name = pointer.split("/")[-1]
        if name in create_only:
            return name
    return None


def replacing_properties(type_name: str, old: dict, new: dict) -> set[str]:
    """Top-level properties whose change forces a replacement."""
    provider = provider_for(type_name)
    extra = provider.extra_replacement if provider else frozenset()
    keys = set(old) | set(new)
    return {
        k
        for k in keys
        if old.get(k) != new.get(k) and (k in schema.create_only(type_name) or k in extra)
    }


def create_resource(stack: Stack, logical_id: str, spec: dict, props: dict) -> Resource:
    rec = Resource(
        logical_resource_id=logical_id,
        cf_resource_type=spec["Type"],
        properties=props,
        deletion_policy=spec.get("DeletionPolicy", "Delete"),
        update_replace_policy=spec.get("UpdateReplacePolicy", "Delete"),
    )
    event(stack, "CREATE_IN_PROGRESS", resource=rec, properties=props)
    injected = pacing.injected_failure(logical_id, "create")
    if injected:
        pacing.sleep(pacing.duration(spec["Type"], "create"))
        raise ResourceFailure(injected)

    def initiated(physical_id: str) -> None:
        rec.physical_resource_id = physical_id
        event(stack, "CREATE_IN_PROGRESS", "Resource creation Initiated", resource=rec)

    where = ctx(stack, logical_id)
    where.announce = initiated
    try:
        created = provider_for(spec["Type"]).create(where, props)
    except Exception as exc:
        if rec.physical_resource_id is None:
            raise
        # it exists (announced) but failed: the rollback deletes it
        raise ResourceFailure(handler_message(exc), rec.physical_resource_id) from exc
    if rec.physical_resource_id is None:
        initiated(created.physical_id)
    rec.attributes = created.attributes
    pacing.sleep(pacing.duration(spec["Type"], "create"))
    event(stack, "CREATE_COMPLETE", resource=rec)
    return rec


def import_resource(
    stack: Stack, logical_id: str, spec: dict, props: dict, physical_id: str
) -> Resource:
    """Bring an existing resource under the stack without changing it (resource import): its
    IMPORT_IN_PROGRESS/IMPORT_COMPLETE events; raises (NotFound, ...) when it is not there.
    The template's properties are recorded as the resource's, as AWS does ("CloudFormation
    does not check that the template configuration matches the actual configuration"):
    drift detection shows what differs."""
    rec = Resource(
        logical_resource_id=logical_id,
        cf_resource_type=spec["Type"],
        physical_resource_id=physical_id,
        properties=props,
        deletion_policy=spec.get("DeletionPolicy", "Delete"),
        update_replace_policy=spec.get("UpdateReplacePolicy", "Delete"),
        imported=True,
    )
    event(stack, "IMPORT_IN_PROGRESS", resource=rec, properties=props)
    adopted = provider_for(spec["Type"]).adopt(ctx(stack, logical_id), physical_id, props)
    rec.physical_resource_id, rec.attributes = adopted.physical_id, adopted.attributes
    pacing.sleep(pacing.duration(spec["Type"], "update"))
    event(stack, "IMPORT_COMPLETE", resource=rec)
    return rec


def update_resource(stack: Stack, rec: Resource, props: dict, forward: bool = True) -> None:
    """Update in place; `forward` is False for a rollback (never cancelled or failed on
    purpose)."""
    event(stack, "UPDATE_IN_PROGRESS", resource=rec, properties=props)
    if forward:
        injected = pacing.injected_failure(rec.logical_resource_id, "update")
        if injected:
            pacing.sleep(pacing.duration(rec.cf_resource_type, "update"))
            raise ResourceFailure(injected)
        # the handler's work is under way when a cancel arrives: AWS fails it and rolls back
        pacing.sleep(pacing.duration(rec.cf_resource_type, "update"), lambda: cancelled(stack))
        pacing.hold(rec.logical_resource_id, lambda: cancelled(stack))
    else:
        pacing.sleep(pacing.duration(rec.cf_resource_type, "update"))
        injected = pacing.injected_failure(rec.logical_resource_id, "rollback")
        if injected:
            raise ResourceFailure(injected)
    created = provider_for(rec.cf_resource_type).update(
        ctx(stack, rec.logical_resource_id), rec.physical_resource_id, rec.properties, props
    )
    rec.attributes = created.attributes or rec.attributes
    rec.properties = props
    event(stack, "UPDATE_COMPLETE", resource=rec)


def delete_resource(
    stack: Stack, rec: Resource, policy: str | None = None, undo_create: str = ""
) -> None:
    """Delete (or retain) one resource; raises ResourceFailure after a DELETE_FAILED event.
    `undo_create` is set when a failed create is rolled back: "retain-except-on-create" when
    the operation asked for RetainExceptOnCreate (its Retain resources go too), else "plain";
    the provider is told (a nested stack made by that create is undone the same way)."""
    if (policy or rec.deletion_policy) in ("Retain", "RetainExceptOnCreate"):
        event(stack, "DELETE_SKIPPED", resource=rec)
        return
    event(stack, "DELETE_IN_PROGRESS", resource=rec)
    try:
        pacing.sleep(pacing.duration(rec.cf_resource_type, "delete"))
        if rec.physical_resource_id:
            where = ctx(stack, rec.logical_resource_id)
            where.undo_create = undo_create
            provider_for(rec.cf_resource_type).delete(
                where, rec.physical_resource_id, rec.properties
            )
    except Exception as exc:  # noqa: BLE001 - any failure becomes the event's reason, as on AWS
        event(stack, "DELETE_FAILED", handler_message(exc), resource=rec)
        raise ResourceFailure(handler_message(exc)) from exc
    event(stack, "DELETE_COMPLETE", resource=rec)
