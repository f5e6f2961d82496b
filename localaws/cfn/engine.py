"""The stack lifecycle: create, update and delete stacks the way CloudFormation does.

Replaces moto's, which creates resources lazily as a side effect of resolving references,
swallows failures, emits no per-resource events, drops a resource whose type has no update
(DynamoDB tables among them), updates a nested stack by deleting and re-creating it (its data
lost), leaves change-set-created stacks without Outputs, cannot resolve
`Fn::GetAtt <NestedStack>.Outputs.X`, and leaves IAM roles behind on delete (SPEC §4).

Here every resource is created in dependency order with CREATE_IN_PROGRESS/COMPLETE/FAILED
events; a failed create rolls back (ROLLBACK_COMPLETE); updates are applied in place unless a
create-only property changed (then replaced, or refused for a custom-named resource, as AWS
does), nested stacks included; a failed update rolls back (UPDATE_ROLLBACK_COMPLETE); delete
honours DeletionPolicy Retain and fails like AWS on a protected table (DELETE_FAILED); a stack
policy is enforced on updates.
"""

from __future__ import annotations

import contextlib
import json
import random
import string
from dataclasses import dataclass
from typing import Any

from moto.cloudformation.models import Event, Stack
from moto.cloudformation.utils import generate_stack_id

from localaws.cfn import schema, stack_policy, templates
from localaws.cfn.intrinsics import (
    Evaluator,
    TemplateError,
    Unresolvable,
    dependency_order,
    parse_template,
    pseudo_parameters,
    resolve_parameters,
)
from localaws.cfn.state import Resource, StackState
from localaws.resources import providers
from localaws.resources.base import (
    Ctx,
    Provider,
    ResourceFailure,
    handler_message,
    utcnow,
)

NESTED_STACK = "AWS::CloudFormation::Stack"
_PROVIDERS: dict[str, Provider] = {}


def provider_for(type_name: str) -> Provider | None:
    if not _PROVIDERS:
        _PROVIDERS.update(providers())
    return _PROVIDERS.get(type_name)


def supported(type_name: str) -> bool:
    return type_name == NESTED_STACK or provider_for(type_name) is not None


# stacks ----------
def new_stack(
    backend: Any,
    name: str,
    *,
    tags: dict[str, str] | None = None,
    notification_arns: list[str] | None = None,
    role_arn: str | None = None,
    termination_protection: bool = False,
    policy: str | None = None,
    timeout: int | None = None,
    status: str = "CREATE_IN_PROGRESS",
) -> Stack:
    """A moto Stack object registered in the backend, with no resources yet."""
    stack = Stack(
        stack_id=generate_stack_id(name, backend.region_name, backend.account_id),
        name=name,
        template={},
        parameters={},
        account_id=backend.account_id,
        region_name=backend.region_name,
        notification_arns=notification_arns,
        tags=tags,
        role_arn=role_arn,
        enable_termination_protection=termination_protection,
        timeout_in_mins=timeout,
        stack_policy_body=policy,
    )
    stack.template = ""
    stack.status = status
    stack.local = StackState(template={}, parameters={}, given_parameters={})
    stack.backend = backend
    backend.stacks[stack.stack_id] = stack
    return stack


def _pseudo(stack: Stack) -> dict:
    return pseudo_parameters(stack.account_id, stack.region_name, stack.stack_id, stack.name)


def load(stack: Stack, body: str | dict, given: dict[str, str]) -> tuple[dict, dict, set]:
    """The parsed template and typed parameters, or a ValidationError (nothing changes)."""
    template = parse_template(body)
    if not isinstance(template.get("Resources"), dict) or not template["Resources"]:
        raise TemplateError("Template format error: At least one Resources member must be defined.")
    for name, spec in template["Resources"].items():
        if not supported(spec.get("Type", "")):
            raise TemplateError(
                f"Template format error: Unrecognized resource types: [{spec.get('Type')}]"
            )
        if spec.get("Condition") and spec["Condition"] not in (template.get("Conditions") or {}):
            raise TemplateError(f"Template format error: Unresolved condition in {name}")
    params, no_echo = resolve_parameters(template, given)
    return template, params, no_echo


def event(
    stack: Stack,
    status: str,
    reason: str | None = None,
    resource: Resource | None = None,
    properties: dict | None = None,
) -> None:
    if resource is None:
        logical, physical, kind = stack.name, stack.stack_id, NESTED_STACK
    else:
        logical = resource.logical_resource_id
        physical = resource.physical_resource_id or ""
        kind = resource.cf_resource_type
        resource.status, resource.status_reason, resource.timestamp = status, reason, utcnow()
    ev = Event(
        stack_id=stack.stack_id,
        stack_name=stack.name,
        logical_resource_id=logical,
        physical_resource_id=physical,
        resource_type=kind,
        resource_status=status,
        resource_status_reason=reason,
        resource_properties=json.dumps(properties) if properties is not None else None,
    )
    stack.events.append(ev)
    if resource is None:
        stack.status = status
        stack.local.status_reason = reason


def _ctx(stack: Stack, logical_id: str) -> Ctx:
    return Ctx(
        account_id=stack.account_id,
        region=stack.region_name,
        stack_name=stack.name,
        stack_id=stack.stack_id,
        logical_id=logical_id,
        backend=stack.backend,
        stack=stack,
        stack_tags=dict(stack.tags or {}),
    )


def _evaluator(stack: Stack, template: dict, params: dict, resources: dict) -> Evaluator:
    return Evaluator(template, params, _pseudo(stack), resources)


def _outputs(stack: Stack) -> list[dict]:
    st = stack.local
    ev = _evaluator(stack, st.template, st.parameters, st.resources)
    out = []
    for key, spec in (st.template.get("Outputs") or {}).items():
        if spec.get("Condition") and not ev.condition(spec["Condition"]):
            continue
        try:
            value = ev.resolve(spec.get("Value"))
        except (Unresolvable, TemplateError):
            continue
        item = {
            "OutputKey": key,
            "OutputValue": ",".join(map(str, value)) if isinstance(value, list) else str(value),
        }
        if spec.get("Description"):
            item["Description"] = spec["Description"]
        if spec.get("Export"):
            item["ExportName"] = str(ev.resolve(spec["Export"].get("Name")))
        out.append(item)
    return out


def _finish(stack: Stack, body: str, template: dict) -> None:
    stack.template = body if isinstance(body, str) else json.dumps(body)
    stack.template_dict = template
    stack.description = template.get("Description")
    stack.local.outputs = _outputs(stack)


# resource operations ----------
def _name_property(type_name: str) -> str | None:
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
    if type_name == NESTED_STACK:
        return set()
    provider = provider_for(type_name)
    extra = provider.extra_replacement if provider else frozenset()
    keys = set(old) | set(new)
    return {
        k
        for k in keys
        if old.get(k) != new.get(k) and (k in schema.create_only(type_name) or k in extra)
    }


def _create_resource(stack: Stack, logical_id: str, spec: dict, props: dict) -> Resource:
    rec = Resource(
        logical_resource_id=logical_id,
        cf_resource_type=spec["Type"],
        properties=props,
        deletion_policy=spec.get("DeletionPolicy", "Delete"),
        update_replace_policy=spec.get("UpdateReplacePolicy", "Delete"),
    )
    event(stack, "CREATE_IN_PROGRESS", resource=rec, properties=props)
    if spec["Type"] == NESTED_STACK:
        nested = _nested_create(stack, logical_id, props)
        rec.physical_resource_id, rec.stack = nested.stack_id, nested
    else:
        created = provider_for(spec["Type"]).create(_ctx(stack, logical_id), props)
        rec.physical_resource_id, rec.attributes = created.physical_id, created.attributes
    event(stack, "CREATE_IN_PROGRESS", "Resource creation Initiated", resource=rec)
    event(stack, "CREATE_COMPLETE", resource=rec)
    return rec


def _update_resource(stack: Stack, rec: Resource, props: dict) -> None:
    event(stack, "UPDATE_IN_PROGRESS", resource=rec, properties=props)
    if rec.cf_resource_type == NESTED_STACK:
        _nested_update(stack, rec, props)
    else:
        created = provider_for(rec.cf_resource_type).update(
            _ctx(stack, rec.logical_resource_id), rec.physical_resource_id, rec.properties, props
        )
        rec.attributes = created.attributes or rec.attributes
    rec.properties = props
    event(stack, "UPDATE_COMPLETE", resource=rec)


def _delete_resource(stack: Stack, rec: Resource, policy: str | None = None) -> None:
    """Delete (or retain) one resource; raises ResourceFailure after a DELETE_FAILED event."""
    if (policy or rec.deletion_policy) == "Retain":
        event(stack, "DELETE_SKIPPED", resource=rec)
        return
    event(stack, "DELETE_IN_PROGRESS", resource=rec)
    try:
        if rec.cf_resource_type == NESTED_STACK:
            _nested_delete(rec)
        elif rec.physical_resource_id:
            provider_for(rec.cf_resource_type).delete(
                _ctx(stack, rec.logical_resource_id), rec.physical_resource_id, rec.properties
            )
    except Exception as exc:  # noqa: BLE001 - any failure becomes the event's reason, as on AWS
        event(stack, "DELETE_FAILED", handler_message(exc), resource=rec)
        raise ResourceFailure(handler_message(exc)) from exc
    event(stack, "DELETE_COMPLETE", resource=rec)


# nested stacks ----------
def _nested_parameters(props: dict) -> dict[str, str]:
    out = {}
    for key, value in (props.get("Parameters") or {}).items():
        out[key] = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    return out


def _nested_create(parent: Stack, logical_id: str, props: dict) -> Stack:
    body = templates.fetch(props["TemplateURL"], parent.account_id)
    suffix = "".join(random.choices(string.ascii_uppercase + string.digits, k=12))
    nested = new_stack(
        parent.backend,
        f"{parent.name}-{logical_id}-{suffix}",
        tags=dict(parent.tags or {}),
        notification_arns=props.get("NotificationARNs"),
    )
    nested.local.parent_id = parent.stack_id
    nested.local.root_id = parent.local.root_id or parent.stack_id
    try:
        create(nested, body, _nested_parameters(props), parent.local.capabilities)
    except TemplateError as exc:
        event(nested, "CREATE_FAILED", exc.message)
        raise ResourceFailure(str(exc.message)) from exc
    if nested.status != "CREATE_COMPLETE":
        raise _EmbeddedFailure(
            f"Embedded stack {nested.stack_id} was not successfully created: "
            f"{nested.local.status_reason}",
            nested,
        )
    return nested


def _nested_update(parent: Stack, rec: Resource, props: dict) -> None:
    nested = rec.stack
    body = templates.fetch(props["TemplateURL"], parent.account_id)
    update(nested, body, _nested_parameters(props))
    if nested.status != "UPDATE_COMPLETE":
        raise ResourceFailure(
            f"Embedded stack {nested.stack_id} was not successfully updated. Currently in "
            f"{nested.status} with reason: {nested.local.status_reason}"
        )


def _nested_delete(rec: Resource) -> None:
    nested = rec.stack
    if nested is None or nested.status == "DELETE_COMPLETE":
        return
    delete(nested)
    if nested.status != "DELETE_COMPLETE":
        raise ResourceFailure(
            f"Embedded stack {nested.stack_id} was not successfully deleted: "
            f"{nested.local.status_reason}"
        )


class _EmbeddedFailure(ResourceFailure):
    def __init__(self, message: str, nested: Stack) -> None:
        super().__init__(message)
        self.nested = nested


# create ----------
def create(
    stack: Stack, body: str | dict, given: dict[str, str], capabilities: list | None = None
) -> None:
    """Create every resource of `body`; on a failure, roll back (ROLLBACK_COMPLETE)."""
    template, params, no_echo = load(stack, body, given)
    st = stack.local
    st.template, st.parameters, st.given_parameters, st.no_echo = template, params, given, no_echo
    st.capabilities = list(capabilities or [])
    stack.template = body if isinstance(body, str) else json.dumps(body)
    stack.template_dict = template
    stack.description = template.get("Description")
    event(stack, "CREATE_IN_PROGRESS", "User Initiated")
    ev = _evaluator(stack, template, params, st.resources)
    failed = None
    try:
        for logical_id in dependency_order(template, ev.included):
            spec = template["Resources"][logical_id]
            try:
                props = ev.resolve(spec.get("Properties") or {}) or {}
                rec = _create_resource(stack, logical_id, spec, props)
            except Exception as exc:  # noqa: BLE001 - reported as AWS reports it, then rolled back
                failed = logical_id
                rec = Resource(logical_id, spec["Type"], properties={})
                nested = getattr(exc, "nested", None)
                if nested is not None:
                    rec.physical_resource_id, rec.stack = nested.stack_id, nested
                    st.resources[logical_id] = rec
                event(stack, "CREATE_FAILED", handler_message(exc), resource=rec)
                raise
            st.resources[logical_id] = rec
    except Exception:  # noqa: BLE001
        _rollback_create(stack, failed)
        return
    _finish(stack, body, template)
    event(stack, "CREATE_COMPLETE")


def _rollback_create(stack: Stack, failed: str | None) -> None:
    st = stack.local
    event(
        stack,
        "ROLLBACK_IN_PROGRESS",
        f"The following resource(s) failed to create: [{failed}]. Rollback requested by user.",
    )
    ok = True
    for rec in reversed(list(st.resources.values())):
        try:
            _delete_resource(stack, rec)
            if rec.deletion_policy != "Retain":
                del st.resources[rec.logical_resource_id]
        except ResourceFailure:
            ok = False
    if ok:
        st.resources.clear()
    event(stack, "ROLLBACK_COMPLETE" if ok else "ROLLBACK_FAILED", st.status_reason)
    st.status_reason = f"The following resource(s) failed to create: [{failed}]. "


# update ----------
@dataclass
class _Journal:
    created: list[Resource]
    modified: list[tuple[Resource, dict, dict]]  # record, old properties, old attributes
    replaced: list[tuple[Resource, Resource]]  # new record, old record


def update(stack: Stack, body: str | dict, given: dict[str, str]) -> None:
    """Apply a new template/parameters in place; on a failure, roll back."""
    template, params, no_echo = load(stack, body, given)
    st = stack.local
    event(stack, "UPDATE_IN_PROGRESS", "User Initiated")
    journal = _Journal([], [], [])
    current = dict(st.resources)
    ev = _evaluator(stack, template, params, current)
    failed = None
    try:
        for logical_id in dependency_order(template, ev.included):
            spec = template["Resources"][logical_id]
            try:
                _update_step(stack, ev, logical_id, spec, current, journal)
            except Exception as exc:  # noqa: BLE001
                failed = logical_id
                rec = current.get(logical_id) or Resource(logical_id, spec["Type"])
                status = "UPDATE_FAILED" if logical_id in st.resources else "CREATE_FAILED"
                event(stack, status, handler_message(exc), resource=rec)
                raise
        removed = [r for lid, r in st.resources.items() if lid not in _kept(template, ev)]
        for rec in removed:
            stack_policy.check(
                stack, "Update:Delete", rec.logical_resource_id, rec.cf_resource_type
            )
    except Exception:  # noqa: BLE001
        _rollback_update(stack, journal, failed, current)
        return
    # cleanup: resources no longer in the template, and the old halves of replacements
    st.template, st.parameters, st.given_parameters, st.no_echo = template, params, given, no_echo
    st.resources = {lid: current[lid] for lid in current if lid in _kept(template, ev)}
    event(stack, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    for old_rec in [o for _, o in journal.replaced]:
        # a failed cleanup does not fail the update: AWS leaves the old resource behind
        with contextlib.suppress(ResourceFailure):
            _delete_resource(stack, old_rec, old_rec.update_replace_policy)
    for rec in reversed(removed):
        with contextlib.suppress(ResourceFailure):
            _delete_resource(stack, rec)
    _finish(stack, body, template)
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
        new = _create_resource(stack, logical_id, spec, props)
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
    replace = replacing_properties(rec.cf_resource_type, rec.properties, props)
    if not replace:
        stack_policy.check(stack, "Update:Modify", logical_id, spec["Type"])
        old_props, old_attrs = rec.properties, dict(rec.attributes)
        _update_resource(stack, rec, props)
        journal.modified.append((rec, old_props, old_attrs))
        return
    stack_policy.check(stack, "Update:Replace", logical_id, spec["Type"])
    name_prop = _name_property(rec.cf_resource_type)
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
    new = _create_resource(stack, logical_id, spec, props)
    current[logical_id] = new
    journal.replaced.append((new, rec))


def _rollback_update(
    stack: Stack, journal: _Journal, failed: str | None, current: dict[str, Resource]
) -> None:
    st = stack.local
    reason = f"The following resource(s) failed to update: [{failed}]. "
    event(stack, "UPDATE_ROLLBACK_IN_PROGRESS", reason)
    for rec, old_props, old_attrs in reversed(journal.modified):
        try:
            _update_resource(stack, rec, old_props)
            rec.attributes = old_attrs
        except Exception as exc:  # noqa: BLE001
            event(stack, "UPDATE_FAILED", handler_message(exc), resource=rec)
    event(stack, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
    for new, old_rec in reversed(journal.replaced):
        with contextlib.suppress(ResourceFailure):
            _delete_resource(stack, new, "Delete")
        event(stack, "UPDATE_COMPLETE", resource=old_rec)
    for rec in reversed(journal.created):
        with contextlib.suppress(ResourceFailure):
            _delete_resource(stack, rec, "Delete")
    event(stack, "UPDATE_ROLLBACK_COMPLETE")
    st.status_reason = reason


# delete ----------
def delete(stack: Stack) -> None:
    """Delete every resource (Retain ones are skipped); DELETE_FAILED if one cannot go."""
    st = stack.local
    event(stack, "DELETE_IN_PROGRESS", "User Initiated")
    order = _deletion_order(stack)
    failed = []
    for rec in order:
        try:
            _delete_resource(stack, rec)
            del st.resources[rec.logical_resource_id]
        except ResourceFailure:
            failed.append(rec.logical_resource_id)
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
