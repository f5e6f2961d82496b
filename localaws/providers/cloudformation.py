"""AWS::CloudFormation::Stack and AWS::CloudFormation::WaitConditionHandle.

A nested stack is a resource like the others: its provider creates, updates and deletes a stack
of its own with the engine's stack operations (cfn/operations/), under the root's capabilities,
as AWS does (moto deletes and re-creates a nested stack on update, losing its data). Its GetAtt
values are the nested stack's outputs (`Outputs.<Key>`), read when they are asked for.

A WaitConditionHandle holds nothing; templates use it as a placeholder (a template needs at
least one resource). Ref gives a presigned URL
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudformation-waitconditionhandle.html);
it takes no properties and supports no update."""

from __future__ import annotations

import random
import string
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from moto.cloudformation.models import Stack

from localaws.cfn import capabilities, nesting, templates
from localaws.cfn.intrinsics import TemplateError, parse_template
from localaws.cfn.loading import NESTED_STACK
from localaws.cfn.operations import create, delete, update
from localaws.cfn.stacks import event, new_stack
from localaws.providers.base import Created, Ctx, Provider, ResourceFailure


def stack_parameters(props: dict) -> dict[str, str]:
    """A nested stack's `Parameters` property as the parameters given to its stack."""
    out = {}
    for key, value in (props.get("Parameters") or {}).items():
        out[key] = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    return out


class StackOutputs(Mapping):
    """A nested stack's GetAtt values, `Outputs.<Key>`, read from the stack when asked: they
    change with each of its updates. A copy is the same view."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack

    def __getitem__(self, name: str) -> Any:
        if name.startswith("Outputs."):
            key = name.split(".", 1)[1]
            for output in self.stack.local.outputs:
                if output["OutputKey"] == key:
                    return output["OutputValue"]
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter([f"Outputs.{o['OutputKey']}" for o in self.stack.local.outputs])

    def __len__(self) -> int:
        return len(self.stack.local.outputs)

    def __copy__(self) -> StackOutputs:
        return self


class NestedStackProvider(Provider):
    type_name = NESTED_STACK
    drift_supported = False  # a stack's drift check does not recurse (DetectStackDrift)

    def create(self, ctx: Ctx, props: dict) -> Created:
        """Create the nested stack, named to the parent (`ctx.announce`) as soon as it exists,
        before its resources: a client following the parent's events finds it while it works,
        as on AWS."""
        parent = ctx.stack
        body = _template(parent, props)
        suffix = "".join(random.choices(string.ascii_uppercase + string.digits, k=12))
        nested = new_stack(
            parent.backend,
            f"{parent.name}-{ctx.logical_id}-{suffix}",
            tags=dict(parent.tags or {}),
            notification_arns=props.get("NotificationARNs"),
        )
        nested.local.parent_id = parent.stack_id
        nested.local.import_existing = parent.local.import_existing
        nested.local.root_id = parent.local.root_id or parent.stack_id
        ctx.announce(nested.stack_id)
        try:
            create.run(nested, body, stack_parameters(props), parent.local.capabilities)
        except TemplateError as exc:
            event(nested, "CREATE_FAILED", exc.message)
            raise ResourceFailure(str(exc.message)) from exc
        if nested.status != "CREATE_COMPLETE":
            raise ResourceFailure(
                f"Embedded stack {nested.stack_id} was not successfully created: "
                f"{nested.local.status_reason}"
            )
        return Created(nested.stack_id, StackOutputs(nested))

    def update(self, ctx: Ctx, physical_id: str, old: dict, new: dict) -> Created:
        parent = ctx.stack
        nested = parent.backend.stacks[physical_id]
        body = _template(parent, new)
        nested.local.import_existing = parent.local.import_existing
        update.run(nested, body, stack_parameters(new))
        if nested.status != "UPDATE_COMPLETE":
            raise ResourceFailure(
                f"Embedded stack {nested.stack_id} was not successfully updated. Currently in "
                f"{nested.status} with reason: {nested.local.status_reason}"
            )
        return Created(physical_id, StackOutputs(nested))

    def adopt(self, ctx: Ctx, physical_id: str, props: dict) -> Created:
        """Resource import of an existing stack: nested into the parent by its StackId
        (resource-import-nested-stacks.html; the checks in cfn/nesting.py)."""
        try:
            nested = nesting.nest(ctx.stack, physical_id, props)
        except ValueError as exc:
            raise ResourceFailure(str(exc)) from None
        return Created(nested.stack_id, StackOutputs(nested))

    def delete(self, ctx: Ctx, physical_id: str, props: dict) -> None:
        """Delete the nested stack; a failed create is undone in it the same way
        (`ctx.undo_create`)."""
        nested = ctx.stack.backend.stacks.get(physical_id)
        if nested is None or nested.status == "DELETE_COMPLETE":
            return
        delete.run(nested, ctx.undo_create)
        if nested.status != "DELETE_COMPLETE":
            raise ResourceFailure(
                f"Embedded stack {nested.stack_id} was not successfully deleted: "
                f"{nested.local.status_reason}"
            )


def _template(parent: Stack, props: dict) -> str:
    """The nested template, refused (as its resource's failure) when it needs capabilities the
    root stack was not given."""
    body = templates.fetch(props["TemplateURL"], parent.account_id)
    try:
        capabilities.check(parse_template(body), parent.local.capabilities)
    except capabilities.InsufficientCapabilities as exc:
        raise ResourceFailure(exc.message) from exc
    return body


class WaitConditionHandleProvider(Provider):
    type_name = "AWS::CloudFormation::WaitConditionHandle"
    drift_supported = False

    def create(self, ctx: Ctx, props: dict) -> Created:
        region = ctx.region
        return Created(
            f"https://cloudformation-waitcondition-{region}.s3.amazonaws.com/"
            f"arn%3Aaws%3Acloudformation%3A{region}%3A{uuid.uuid4()}"
        )

    def update(self, ctx: Ctx, physical_id: str, old: dict, new: dict) -> Created:
        return Created(physical_id)

    def delete(self, ctx: Ctx, physical_id: str, props: dict) -> None:
        return None

    def read(self, ctx: Ctx, physical_id: str, props: dict) -> dict:
        return {}


PROVIDERS = [NestedStackProvider(), WaitConditionHandleProvider()]
