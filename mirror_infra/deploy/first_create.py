"""A first create that rolls back cleanly, and guards nothing less in the meantime.

A create that fails late rolls back by deleting what it made, but:

- DynamoDB refuses to delete a table whose `DeletionProtectionEnabled` is true, so the rollback
  would fail (`ROLLBACK_FAILED`) and the fixed-name tables would block every retry;
- a resource with `DeletionPolicy: Retain` (production's tables, key, bucket, log group) is kept
  by the rollback, and its fixed name would block every retry too.

So a first create runs on a copy of the templates with table deletion protection off and every
`Retain` turned into `RetainExceptOnCreate`, which AWS documents as "behaves like Retain for
stack operations, except for the stack operation that initially created the resource. If the
stack operation that created the resource is rolled back, CloudFormation deletes the resource.
For all other stack operations, such as stack deletion, CloudFormation retains the resource"
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html).
The template attribute sits on each resource, in its own nested template, so no flag of the
root's ExecuteChangeSet has to reach the nested stacks. A stack deleted while the copy is
deployed (before the update below) keeps those resources, as `Retain` would.

The apply that made the stack then updates it to the built templates, which turns protection
on (an in-place change) and `RetainExceptOnCreate` back into `Retain`. Should that apply be
stopped before it, the guards are missing until the next command that changes the environment
restores them first (`deploy/window.py`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from mirror_infra.build import BuildResult, dump, write_nested

TABLE = "AWS::DynamoDB::Table"
PROTECTION = "DeletionProtectionEnabled"
RETAIN = "Retain"
RETAIN_EXCEPT_ON_CREATE = "RetainExceptOnCreate"


@dataclass(frozen=True)
class Unprotected:
    build: BuildResult  # the templates the create runs on
    tables: list[str]  # the protected tables created unprotected (qualified logical ids)
    retained: list[str]  # the Retain resources created RetainExceptOnCreate (qualified)

    @property
    def restored_after(self) -> list[str]:
        """What the update after the create puts back as the built templates say."""
        return sorted({*self.tables, *self.retained})


def _loosen(template: dict) -> tuple[list[str], list[str]]:
    """Turn the template's guards into their first-create form, in place: (tables whose
    protection was turned off, resources whose Retain became RetainExceptOnCreate)."""
    tables, retained = [], []
    for name, resource in template.get("Resources", {}).items():
        props = resource.get("Properties", {})
        if resource.get("Type") == TABLE and props.get(PROTECTION) is True:
            props[PROTECTION] = False
            tables.append(name)
        if resource.get("DeletionPolicy") == RETAIN:
            resource["DeletionPolicy"] = RETAIN_EXCEPT_ON_CREATE
            retained.append(name)
    return tables, retained


def unprotected(built: BuildResult, into: Path) -> Unprotected | None:
    """`built` in its first-create form, written under `into` (nested templates that need no
    change stay where they are); None when nothing in it is protected or retained."""
    nested = dict(built.nested)
    root = built.root.read_text(encoding="utf-8")
    tables: list[str] = []
    retained: list[str] = []
    for logical_id, path in built.nested.items():
        template = json.loads(path.read_text(encoding="utf-8"))
        turned, kept = _loosen(template)
        if not turned and not kept:
            continue
        copy = write_nested(into, logical_id, template)
        root = root.replace(path.name, copy.name)  # content addresses: unique in the root
        nested[logical_id] = copy
        tables += [f"{logical_id}.{name}" for name in turned]
        retained += [f"{logical_id}.{name}" for name in kept]
    root_template = json.loads(root)
    turned, kept = _loosen(root_template)  # the root holds only nested stacks today
    if turned or kept:
        root = dump(root_template)
        tables += turned
        retained += kept
    if not tables and not retained:
        return None
    (into / "root.json").write_text(root, encoding="utf-8")
    return Unprotected(
        BuildResult(built.env, into, into / "root.json", nested, skipped=False),
        sorted(tables),
        sorted(retained),
    )


def note(variant: Unprotected) -> str:
    parts = []
    if variant.tables:
        parts.append(f"without deletion protection ({', '.join(variant.tables)})")
    if variant.retained:
        parts.append(
            f"with DeletionPolicy RetainExceptOnCreate instead of Retain "
            f"({', '.join(variant.retained)})"
        )
    return (
        f"the stack is created {' and '.join(parts)}, and the same apply restores both by an "
        "update right after the create succeeds: a create that fails late then rolls back "
        "completely (DynamoDB refuses to delete a protected table, and a rollback keeps Retain "
        "resources); a stack deleted before that update still keeps them"
        + (
            " (RetainExceptOnCreate in a nested stack counting the root's create as the "
            "operation that created it is a reading of the DeletionPolicy page, not its words: "
            "tests/conformance/test_retain_except_on_create_nested.py settles it on an account)"
            if variant.retained
            else ""
        )
    )
