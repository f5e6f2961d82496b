"""Nesting an existing stack into another by resource import, as
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resource-import-nested-stacks.html
describes it: "Use the resource import feature to nest an existing stack within another existing
stack"; the `AWS::CloudFormation::Stack` resource is identified by its `StackId`.

What the page says CloudFormation checks, each refused here:
- "AWS CloudFormation only supports one level of nesting using resource import. This means that
  you cannot import a stack into a child stack or import a stack that has children";
- "The nested AWS::CloudFormation::Stack definition in the parent stack template matches the
  actual nested stack's template";
- "The tags for the nested AWS::CloudFormation::Stack definition in the parent stack template
  match the tags for the actual nested stack resource" (the parent's stack-level tags, which
  CloudFormation gives its nested stacks, plus the definition's own `Tags`).
The page does not say whether these are refused at CreateChangeSet or at execution: the local
AWS fails the change set (its StatusReason names the check), and checks again on execution.
Once nested, the stack is the parent's like any nested stack: updated and deleted from it.
"""

from __future__ import annotations

import json
from typing import Any

from localaws.cfn import templates
from localaws.cfn.loading import NESTED_STACK
from localaws.cfn.state import Resource

GONE = ("DELETE_COMPLETE",)


def _stack(parent: Any, stack_id: str) -> Any:
    found = parent.backend.stacks.get(stack_id)
    return None if found is None or found.status in GONE else found


def _same_template(body: str, deployed: str) -> bool:
    try:
        return json.loads(body) == json.loads(deployed)
    except ValueError:
        return body.strip() == deployed.strip()


def _tags(props: dict, parent: Any) -> dict[str, str]:
    wanted = dict(parent.tags or {})
    wanted.update({t["Key"]: t["Value"] for t in props.get("Tags") or []})
    return wanted


def refusal(parent: Any, stack_id: str, props: dict) -> str | None:
    """Why the stack `stack_id` cannot be nested into `parent` with the definition `props`
    (resolved), or None."""
    child = _stack(parent, stack_id)
    if child is None:
        return f"Resource of type '{NESTED_STACK}' with identifier '{stack_id}' does not exist."
    if parent.local.parent_id:
        return "Importing a stack into a nested stack is not supported: one level of nesting"
    if child.local.parent_id:
        return (
            f"Resource of type '{NESTED_STACK}' with identifier '{stack_id}' already belongs to "
            f"stack {child.local.parent_id}."
        )
    if child.stack_id == parent.stack_id:
        return "A stack cannot be nested into itself"
    if any(r.cf_resource_type == NESTED_STACK for r in child.local.resources.values()):
        return f"Stack {stack_id} has nested stacks: a stack that has children cannot be imported"
    try:
        body = templates.fetch(props.get("TemplateURL", ""), parent.account_id)
    except Exception as exc:  # noqa: BLE001 - AWS's wording of the S3 error, as for any nested stack
        return str(getattr(exc, "message", exc))
    if not _same_template(body, child.template or ""):
        return (
            f"The template of the nested stack {stack_id} does not match the template its "
            "AWS::CloudFormation::Stack definition names"
        )
    if _tags(props, parent) != dict(child.tags or {}):
        return (
            f"The tags of the nested stack {stack_id} do not match the tags of its "
            "AWS::CloudFormation::Stack definition"
        )
    return None


def nest(parent: Any, stack_id: str, props: dict) -> Any:
    """Make the stack `stack_id` the parent's nested stack (the import of its resource); the
    stack, or ValueError naming the check it fails."""
    why = refusal(parent, stack_id, props)
    if why is not None:
        raise ValueError(why)
    child = _stack(parent, stack_id)
    child.local.parent_id = parent.stack_id
    child.local.root_id = parent.local.root_id or parent.stack_id
    return child


def unnest(parent: Any, rec: Resource) -> None:
    """An import rolled back: a stack it nested is standalone again, as it was."""
    if rec.cf_resource_type != NESTED_STACK:
        return
    child = _stack(parent, rec.physical_resource_id or "")
    if child is not None and child.local.parent_id == parent.stack_id:
        child.local.parent_id = None
        child.local.root_id = None
