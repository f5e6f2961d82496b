"""Nested stacks (AWS::CloudFormation::Stack resources): created, updated in place and deleted
as stacks of their own under the parent's capabilities, as AWS does (moto deletes and
re-creates them on update, losing their data)."""

from __future__ import annotations

import random
import string
from collections.abc import Callable

from moto.cloudformation.models import Stack

from localaws.cfn import capabilities, creation, deletion, templates, updating
from localaws.cfn.intrinsics import TemplateError, parse_template
from localaws.cfn.stacks import event, new_stack
from localaws.cfn.state import Resource
from localaws.resources.base import ResourceFailure


def parameters(props: dict) -> dict[str, str]:
    out = {}
    for key, value in (props.get("Parameters") or {}).items():
        out[key] = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    return out


def _template(parent: Stack, props: dict) -> str:
    """The nested template, refused (as its resource's failure) when it needs capabilities the
    root stack was not given."""
    body = templates.fetch(props["TemplateURL"], parent.account_id)
    try:
        capabilities.check(parse_template(body), parent.local.capabilities)
    except capabilities.InsufficientCapabilities as exc:
        raise ResourceFailure(exc.message) from exc
    return body


def create(parent: Stack, logical_id: str, props: dict, started: Callable[[Stack], None]) -> Stack:
    """Create the nested stack; `started(nested)` once it exists, before its resources."""
    body = _template(parent, props)
    suffix = "".join(random.choices(string.ascii_uppercase + string.digits, k=12))
    nested = new_stack(
        parent.backend,
        f"{parent.name}-{logical_id}-{suffix}",
        tags=dict(parent.tags or {}),
        notification_arns=props.get("NotificationARNs"),
    )
    nested.local.parent_id = parent.stack_id
    nested.local.import_existing = parent.local.import_existing
    nested.local.root_id = parent.local.root_id or parent.stack_id
    started(nested)
    try:
        creation.create(nested, body, parameters(props), parent.local.capabilities)
    except TemplateError as exc:
        event(nested, "CREATE_FAILED", exc.message)
        raise ResourceFailure(str(exc.message)) from exc
    if nested.status != "CREATE_COMPLETE":
        raise EmbeddedFailure(
            f"Embedded stack {nested.stack_id} was not successfully created: "
            f"{nested.local.status_reason}",
            nested,
        )
    return nested


def update(parent: Stack, rec: Resource, props: dict) -> None:
    nested = rec.stack
    body = _template(parent, props)
    nested.local.import_existing = parent.local.import_existing
    updating.update(nested, body, parameters(props))
    if nested.status != "UPDATE_COMPLETE":
        raise ResourceFailure(
            f"Embedded stack {nested.stack_id} was not successfully updated. Currently in "
            f"{nested.status} with reason: {nested.local.status_reason}"
        )


def delete(rec: Resource, undo_create: str = "") -> None:
    nested = rec.stack
    if nested is None or nested.status == "DELETE_COMPLETE":
        return
    deletion.delete(nested, undo_create)
    if nested.status != "DELETE_COMPLETE":
        raise ResourceFailure(
            f"Embedded stack {nested.stack_id} was not successfully deleted: "
            f"{nested.local.status_reason}"
        )


class EmbeddedFailure(ResourceFailure):
    def __init__(self, message: str, nested: Stack) -> None:
        super().__init__(message)
        self.nested = nested
