"""A stack as the engine keeps it: the moto Stack object registered in the backend (with its
`.local` StackState), its events, the context handed to resource providers, and the outputs
evaluated once an operation completes."""

from __future__ import annotations

import json
from typing import Any

from moto.cloudformation.models import Event, Stack
from moto.cloudformation.utils import generate_stack_id

from localaws.cfn.intrinsics import Evaluator, TemplateError, Unresolvable, pseudo_parameters
from localaws.cfn.loading import NESTED_STACK
from localaws.cfn.state import Resource, StackState
from localaws.providers.base import Ctx, utcnow


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


def pseudo(stack: Stack) -> dict:
    return pseudo_parameters(stack.account_id, stack.region_name, stack.stack_id, stack.name)


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


def ctx(stack: Stack, logical_id: str) -> Ctx:
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


def evaluator(stack: Stack, template: dict, params: dict, resources: dict) -> Evaluator:
    return Evaluator(template, params, pseudo(stack), resources)


def _outputs(stack: Stack) -> list[dict]:
    st = stack.local
    ev = evaluator(stack, st.template, st.parameters, st.resources)
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


def finish(stack: Stack, body: str, template: dict) -> None:
    stack.template = body if isinstance(body, str) else json.dumps(body)
    stack.template_dict = template
    stack.description = template.get("Description")
    stack.local.outputs = _outputs(stack)


def root_of(stack: Stack) -> Stack:
    root_id = stack.local.root_id
    return stack.backend.stacks.get(root_id, stack) if root_id else stack


def cancelled(stack: Stack) -> bool:
    """Whether CancelUpdateStack was called on this update (on the root stack)."""
    root = root_of(stack)
    return root.local.cancel_requested and root.status == "UPDATE_IN_PROGRESS"
