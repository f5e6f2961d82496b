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

from localaws import pacing
from localaws.cfn import capabilities, schema, stack_policy, templates
from localaws.cfn.intrinsics import (
    Evaluator,
    TemplateError,
    Unresolvable,
    dependencies,
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
# aws-attribute-deletionpolicy.html / aws-attribute-updatereplacepolicy.html
_POLICIES = {
    "DeletionPolicy": ("Delete", "Retain", "RetainExceptOnCreate", "Snapshot"),
    "UpdateReplacePolicy": ("Delete", "Retain", "Snapshot"),
}
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
        for attribute, allowed in _POLICIES.items():
            if attribute in spec and spec[attribute] not in allowed:
                raise TemplateError(
                    f"Template format error: Unrecognized {attribute} {spec[attribute]} for "
                    f"resource {name}; expected one of {', '.join(allowed)}"
                )
    refuse_unsupported(template)
    params, no_echo = resolve_parameters(template, given)
    return template, params, no_echo


# features this environment does not use: refused, never answered wrongly (issue 11)
UNSUPPORTED_FUNCTIONS = ("Fn::ImportValue", "Fn::Cidr", "Fn::GetAZs")


def refuse_unsupported(template: dict) -> None:
    """A ValidationError naming the first feature the local AWS does not model."""

    def refuse(what: str) -> None:
        raise TemplateError(
            f"{what} is not supported by the local AWS; deploy this template to AWS instead"
        )

    for name, spec in (template.get("Parameters") or {}).items():
        if str(spec.get("Type", "")).startswith("AWS::SSM::Parameter::"):
            refuse(f"SSM parameter type {spec['Type']} (parameter {name})")
    for name, spec in (template.get("Outputs") or {}).items():
        if "Export" in spec:
            refuse(f"Export (output {name})")

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in UNSUPPORTED_FUNCTIONS:
                    refuse(key)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: template.get(k) for k in ("Resources", "Outputs", "Conditions")})


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
    injected = pacing.injected_failure(logical_id, "create")
    if injected:
        pacing.sleep(pacing.duration(spec["Type"], "create"))
        raise ResourceFailure(injected)
    if spec["Type"] == NESTED_STACK:
        nested = _nested_create(stack, logical_id, props)
        rec.physical_resource_id, rec.stack = nested.stack_id, nested
    else:
        created = provider_for(spec["Type"]).create(_ctx(stack, logical_id), props)
        rec.physical_resource_id, rec.attributes = created.physical_id, created.attributes
    event(stack, "CREATE_IN_PROGRESS", "Resource creation Initiated", resource=rec)
    pacing.sleep(pacing.duration(spec["Type"], "create"))
    event(stack, "CREATE_COMPLETE", resource=rec)
    return rec


def _update_resource(stack: Stack, rec: Resource, props: dict, forward: bool = True) -> None:
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
    else:
        pacing.sleep(pacing.duration(rec.cf_resource_type, "update"))
        injected = pacing.injected_failure(rec.logical_resource_id, "rollback")
        if injected:
            raise ResourceFailure(injected)
    if rec.cf_resource_type == NESTED_STACK:
        _nested_update(stack, rec, props)
    else:
        created = provider_for(rec.cf_resource_type).update(
            _ctx(stack, rec.logical_resource_id), rec.physical_resource_id, rec.properties, props
        )
        rec.attributes = created.attributes or rec.attributes
    rec.properties = props
    event(stack, "UPDATE_COMPLETE", resource=rec)


def _delete_resource(
    stack: Stack, rec: Resource, policy: str | None = None, undo_create: str = ""
) -> None:
    """Delete (or retain) one resource; raises ResourceFailure after a DELETE_FAILED event.
    `undo_create` is set when a failed create is rolled back: "retain-except-on-create" when
    the operation asked for RetainExceptOnCreate (its Retain resources go too), else "plain";
    a nested stack made by that create is undone the same way."""
    if (policy or rec.deletion_policy) in ("Retain", "RetainExceptOnCreate"):
        event(stack, "DELETE_SKIPPED", resource=rec)
        return
    event(stack, "DELETE_IN_PROGRESS", resource=rec)
    try:
        pacing.sleep(pacing.duration(rec.cf_resource_type, "delete"))
        if rec.cf_resource_type == NESTED_STACK:
            _nested_delete(rec, undo_create)
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


def _nested_template(parent: Stack, props: dict) -> str:
    """The nested template, refused (as its resource's failure) when it needs capabilities the
    root stack was not given."""
    body = templates.fetch(props["TemplateURL"], parent.account_id)
    try:
        capabilities.check(parse_template(body), parent.local.capabilities)
    except capabilities.InsufficientCapabilities as exc:
        raise ResourceFailure(exc.message) from exc
    return body


def _nested_create(parent: Stack, logical_id: str, props: dict) -> Stack:
    body = _nested_template(parent, props)
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
    body = _nested_template(parent, props)
    update(nested, body, _nested_parameters(props))
    if nested.status != "UPDATE_COMPLETE":
        raise ResourceFailure(
            f"Embedded stack {nested.stack_id} was not successfully updated. Currently in "
            f"{nested.status} with reason: {nested.local.status_reason}"
        )


def _nested_delete(rec: Resource, undo_create: str = "") -> None:
    nested = rec.stack
    if nested is None or nested.status == "DELETE_COMPLETE":
        return
    delete(nested, undo_create)
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
    ev = _evaluator(stack, template, params, st.resources)
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
            delete(stack)
        return
    _finish(stack, body, template)
    event(stack, "CREATE_COMPLETE")


def _create_one(stack: Stack, ev: Evaluator, logical_id: str, spec: dict) -> None:
    """Create one resource and record it; on a failure, its CREATE_FAILED event, then raise."""
    st = stack.local
    try:
        props = ev.resolve(spec.get("Properties") or {}) or {}
        rec = _create_resource(stack, logical_id, spec, props)
    except Exception as exc:  # noqa: BLE001 - reported as AWS reports it, then rolled back
        rec = Resource(logical_id, spec["Type"], properties={})
        nested = getattr(exc, "nested", None)
        if nested is not None:
            rec.physical_resource_id, rec.stack = nested.stack_id, nested
            st.resources[logical_id] = rec
        event(stack, "CREATE_FAILED", handler_message(exc), resource=rec)
        raise
    st.resources[logical_id] = rec


def _create_all(stack: Stack, template: dict, ev: Evaluator) -> str | None:
    """Create every resource once its dependencies exist; the first that failed, or None."""
    resources = template["Resources"]
    return _in_dependency_order(
        template, ev, lambda lid: _create_one(stack, ev, lid, resources[lid])
    )


def _in_dependency_order(
    template: dict,
    ev: Evaluator,
    work: Any,
    stop: Any = lambda: False,
) -> str | None:
    """Run `work(logical_id)` for every resource once its dependencies are done; returns the
    first resource whose work raised (nothing new starts after it)."""
    order = dependency_order(template, ev.included)
    failed = _in_waves(order, dependencies(template, ev.included), work, stop)
    return failed[0] if failed else None


def _in_waves(
    order: list[str],
    needs: dict[str, set[str]],
    work: Any,
    stop: Any = lambda: False,
    keep_going: bool = False,
) -> list[str]:
    """Run `work(name)` for each name of `order` once the names it `needs` are done: one at a
    time in instant mode, independent ones at the same time in paced mode, as AWS provisions
    them (so a paced operation takes its critical path). Returns the names whose work raised.
    Unless `keep_going` (deletes go on past a failure, as AWS's do), nothing new starts after a
    failure or once `stop()`, and what is under way finishes first."""
    if not pacing.paced():
        failed = []
        for name in order:
            if stop():
                raise pacing.Cancelled
            try:
                work(name)
            except Exception:  # noqa: BLE001 - its event says why
                failed.append(name)
                if not keep_going:
                    break
        return failed
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    pending, done, failed = list(order), set(), []
    abandoned = halted = False
    running: dict = {}
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="local-aws-resource") as pool:
        while True:
            halted = halted or (not failed and stop())
            blocked = halted or (failed and not keep_going)
            ready = [] if blocked else [n for n in pending if needs.get(n, set()) <= done]
            for name in ready:
                pending.remove(name)
                running[pool.submit(pacing.inherit(work), name)] = name
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                name = running.pop(future)
                error = future.exception()
                if error is None:
                    done.add(name)
                    continue
                abandoned = abandoned or isinstance(error, pacing.Abandoned)
                failed.append(name)
                if keep_going:
                    done.add(name)  # what depended on it may still go
    if abandoned:
        raise pacing.Abandoned
    if not failed and halted:
        raise pacing.Cancelled
    return failed


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
        policy = _undo_policy(rec, undo) or rec.deletion_policy
        try:
            _delete_resource(stack, rec, policy, undo)
            if policy != "Retain":
                del st.resources[rec.logical_resource_id]
        except ResourceFailure:
            ok = False
    if ok:
        st.resources.clear()
    event(stack, "ROLLBACK_COMPLETE" if ok else "ROLLBACK_FAILED", st.status_reason)
    st.status_reason = f"The following resource(s) failed to create: [{failed}]. "


# update ----------
def root_of(stack: Stack) -> Stack:
    root_id = stack.local.root_id
    return stack.backend.stacks.get(root_id, stack) if root_id else stack


def cancelled(stack: Stack) -> bool:
    """Whether CancelUpdateStack was called on this update (on the root stack)."""
    root = root_of(stack)
    return root.local.cancel_requested and root.status == "UPDATE_IN_PROGRESS"


@dataclass
class _Journal:
    created: list[Resource]
    modified: list[tuple[Resource, dict, dict]]  # record, old properties, old attributes
    replaced: list[tuple[Resource, Resource]]  # new record, old record


def update(
    stack: Stack, body: str | dict, given: dict[str, str], disable_rollback: bool = False
) -> None:
    """Apply a new template/parameters in place; on a failure, roll back — or, with
    `disable_rollback`, stop at UPDATE_FAILED keeping what was done (API_UpdateStack)."""
    template, params, no_echo = load(stack, body, given)
    st = stack.local
    if not st.parent_id:
        st.cancel_requested = False
    event(stack, "UPDATE_IN_PROGRESS", "User Initiated")
    journal = _Journal([], [], [])
    current = dict(st.resources)
    ev = _evaluator(stack, template, params, current)
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
        failed = _in_dependency_order(template, ev, step, lambda: cancelled(stack))
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
    name_prop = name_property(rec.cf_resource_type)
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
            _update_resource(stack, rec, old_props, forward=False)
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
            _delete_resource(stack, new, "Delete")
        event(stack, "UPDATE_COMPLETE", resource=old_rec)
    for rec in reversed(journal.created):
        with contextlib.suppress(ResourceFailure):
            _delete_resource(stack, rec, "Delete")
    event(stack, "UPDATE_ROLLBACK_COMPLETE")
    st.status_reason = reason


# delete ----------
def _undo_policy(rec: Resource, undo_create: str) -> str | None:
    """The DeletionPolicy that applies when a failed create is undone: RetainExceptOnCreate
    resources go ("If the stack operation that created the resource is rolled back,
    CloudFormation deletes the resource"), Retain ones too when the operation asked for
    RetainExceptOnCreate (API_ExecuteChangeSet.html)."""
    policy = rec.deletion_policy
    if undo_create and policy == "RetainExceptOnCreate":
        return "Delete"
    if undo_create == "retain-except-on-create" and policy == "Retain":
        return "Delete"
    return None


def delete(stack: Stack, undo_create: str = "") -> None:
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
        _delete_resource(stack, rec, _undo_policy(rec, undo_create), undo_create)
        del st.resources[logical_id]

    failed = _in_waves(list(records), needs, remove, keep_going=True)
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
