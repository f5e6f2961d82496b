"""The rules of resource import, as CloudFormation applies them: which resources can be
imported, how they are identified, and what an IMPORT change set (`ResourcesToImport`) or an
auto-import (`ImportExistingResources`) is refused for. The import operation itself is
operations/import_resources.py; the Import rows of a change set, change_set_computation.py.

Sources (each rule below names its page):
- IMPORT: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resource-import.html
  ("Import operations don't allow new resource creations, resource deletions, or changes to
  property configurations"; every resource to import needs a DeletionPolicy; it must exist and
  not belong to another stack), resource-import-nested-stacks.html (one level of nesting);
- auto-import: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/
  import-resources-automatically.html (a static custom name, DeletionPolicy Retain or
  RetainExceptOnCreate, no owning stack, an importable type whose primary identifier is in the
  template and not read-only).

Whether a type is importable comes from its provider schema (a `read` handler; the primary
identifier), as CloudFormation publishes it; the local AWS can only import types it models.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation.exceptions import ValidationError

from localaws.cfn import nesting, schema
from localaws.cfn.loading import NESTED_STACK
from localaws.cfn.registry import provider_for
from localaws.cfn.stacks import ctx
from localaws.providers.base import NotFound

# CreateChangeSet's refusal texts that AWS's console and CLI show verbatim
NEEDS_DELETION_POLICY = (
    "The following resources to import [{}] must have DeletionPolicy attribute specified in the "
    "template."
)
NO_OTHER_CHANGES = "As part of the import operation, you cannot modify or add [{}]"
# the StatusReason of a change set that would auto-import a resource it may not (quoted by the
# AWS CDK's toolkit, aws/aws-cdk-cli pull request 1367)
AUTO_IMPORT_NEEDS_RETAIN = (
    "CloudFormation is attempting to import some resources because they already exist in your "
    "account. The resources must have the DeletionPolicy attribute set to 'Retain' or "
    "'RetainExceptOnCreate' in the template for successful import. The affected resources are "
    "{}"
)
AUTO_IMPORT_POLICIES = ("Retain", "RetainExceptOnCreate")


def identifier_properties(type_name: str) -> list[str]:
    """The primary identifier's properties (top-level names), in the schema's order."""
    pointers = schema.resource_schema(type_name).get("primaryIdentifier", [])
    return [p.split("/")[-1] for p in pointers]


def importable(type_name: str) -> bool:
    """A type CloudFormation can import (its schema has a read handler) and the local AWS
    models; a nested stack is an existing stack nested by its StackId (cfn/nesting.py)."""
    if provider_for(type_name) is None:
        return False
    return "read" in (schema.resource_schema(type_name).get("handlers") or {})


def physical_id(type_name: str, identifier: dict[str, str]) -> str:
    """The physical id of the resource an identifier names: the identifier's value (for a
    composite one, the last part: a metric filter's name, as CloudFormation shows it)."""
    return str(identifier[identifier_properties(type_name)[-1]])


def owner(backend: Any, type_name: str, physical: str) -> Any:
    """The stack that already holds this resource, or None."""
    for stack in list(backend.stacks.values()):
        for rec in list(stack.local.resources.values()):
            if rec.cf_resource_type == type_name and rec.physical_resource_id == physical:
                return stack
    return None


def missing_or_owned(stack: Any, logical_id: str, type_name: str, physical: str, props: dict):
    """Why this resource cannot be imported into `stack` (None when it can): it does not
    exist, or another stack (or this one, under another logical id) holds it."""
    if type_name == NESTED_STACK:
        return nesting.refusal(stack, physical, props)
    try:
        provider_for(type_name).read(ctx(stack, logical_id), physical, props)
    except NotFound:
        return f"Resource of type '{type_name}' with identifier '{physical}' does not exist."
    holder = owner(stack.backend, type_name, physical)
    if holder is not None:
        return (
            f"Resource of type '{type_name}' with identifier '{physical}' already belongs to "
            f"stack {holder.stack_id}."
        )
    return None


# IMPORT change sets ----------
def check_request(
    stack: Any, template: dict, to_import: list[dict], include_nested: bool
) -> dict[str, str]:
    """The logical id -> physical id of each resource to import, or a ValidationError for
    what CreateChangeSet refuses. `stack` is None when the IMPORT creates the stack."""
    if include_nested:
        # resource-import-nested-stacks.html: import runs on one stack; a nested stack's
        # resources are imported by an IMPORT change set on that nested stack
        raise ValidationError(
            message="IncludeNestedStacks is not supported for change sets of type IMPORT"
        )
    if not to_import:
        raise ValidationError(message="ResourcesToImport must be specified for IMPORT")
    body = template["Resources"]
    wanted: dict[str, str] = {}
    for item in to_import:
        logical, kind = item.get("LogicalResourceId"), item.get("ResourceType")
        spec = body.get(logical)
        if spec is None or spec.get("Type") != kind:
            raise ValidationError(
                message=f"Resource {logical} of type {kind} to import is not in the template"
            )
        if not importable(kind):
            raise ValidationError(
                message=f"ResourceTypes [{kind}] are not supported for import by the local AWS"
            )
        identifier = item.get("ResourceIdentifier") or {}
        keys = identifier_properties(kind)
        if sorted(identifier) != sorted(keys):
            raise ValidationError(
                message=f"Invalid ResourceIdentifier for {logical}: {kind} is identified by "
                f"{', '.join(keys)}"
            )
        declared = spec.get("Properties") or {}
        for key in keys:
            if isinstance(declared.get(key), str) and declared[key] != str(identifier[key]):
                raise ValidationError(
                    message=f"The identifier value {identifier[key]} of {logical} does not match "
                    f"its {key} in the template ({declared[key]})"
                )
        if logical in wanted:
            raise ValidationError(message=f"Resource {logical} is listed twice to import")
        wanted[logical] = physical_id(kind, identifier)
    without_policy = sorted(lid for lid in wanted if "DeletionPolicy" not in body[lid])
    if without_policy:
        raise ValidationError(message=NEEDS_DELETION_POLICY.format(", ".join(without_policy)))
    _only_imports(stack, template, wanted)
    return wanted


def _only_imports(stack: Any, template: dict, wanted: dict[str, str]) -> None:
    """resource-import.html: an import neither creates, deletes nor changes anything else;
    Outputs may not be added or modified either (AWS: "...cannot modify or add [Outputs]")."""
    before = stack.local.template if stack is not None else {}
    old_body = before.get("Resources") or {}
    new_body = template["Resources"]
    for logical in wanted:
        if logical in old_body:
            raise ValidationError(message=f"Resource {logical} already exists in the stack")
    added = sorted(lid for lid in new_body if lid not in old_body and lid not in wanted)
    changed = sorted(lid for lid in old_body if new_body.get(lid) != old_body[lid])
    if added or changed:
        raise ValidationError(message=NO_OTHER_CHANGES.format(", ".join(added + changed)))
    if (template.get("Outputs") or {}) != (before.get("Outputs") or {}):
        raise ValidationError(message=NO_OTHER_CHANGES.format("Outputs"))


# auto-import (ImportExistingResources) ----------
def static_name(spec: dict) -> tuple[str, str] | None:
    """(property, value) of a resource's custom name written as a literal in the template —
    import-resources-automatically.html: "Dynamic names (using !Ref or other functions) are
    not currently supported" — or None."""
    type_name = spec.get("Type", "")
    if not importable(type_name):
        return None
    keys = identifier_properties(type_name)
    read_only = schema.resource_schema(type_name).get("readOnlyProperties", [])
    if len(keys) != 1 or f"/properties/{keys[0]}" in read_only:
        return None  # "Primary IDs with read only properties aren't supported"
    value = (spec.get("Properties") or {}).get(keys[0])
    return (keys[0], value) if isinstance(value, str) and value else None


def auto_import_target(stack: Any, logical_id: str, spec: dict, props: dict) -> str | None:
    """The physical id to import instead of creating this resource, or None: a static name
    that exists, owned by no stack, with DeletionPolicy Retain or RetainExceptOnCreate."""
    named = static_name(spec)
    if named is None or spec.get("DeletionPolicy") not in AUTO_IMPORT_POLICIES:
        return None
    if missing_or_owned(stack, logical_id, spec["Type"], named[1], props) is not None:
        return None
    return named[1]


def needs_retain(stack: Any, logical_id: str, spec: dict, props: dict) -> str | None:
    """`Logical ({Name=value})` when an existing, unowned, statically named resource would be
    auto-imported but its DeletionPolicy is not Retain/RetainExceptOnCreate; else None."""
    named = static_name(spec)
    if named is None or spec.get("DeletionPolicy") in AUTO_IMPORT_POLICIES:
        return None
    if missing_or_owned(stack, logical_id, spec["Type"], named[1], props) is not None:
        return None
    return f"{logical_id} ({{{named[0]}={named[1]}}})"
