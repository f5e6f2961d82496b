"""A first create that can roll back cleanly where tables carry deletion protection.

A create that fails late rolls back by deleting what it made (`RetainExceptOnCreate`), but
DynamoDB refuses to delete a table whose `DeletionProtectionEnabled` is true, so the rollback
fails (`ROLLBACK_FAILED`) and the fixed-name tables block every retry. So a first create runs
on a copy of the templates with table deletion protection off; the apply that made it then
updates the stack to the built templates, which turns protection on (an in-place change).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from mirror_infra.build import BuildResult, write_nested

TABLE = "AWS::DynamoDB::Table"
PROTECTION = "DeletionProtectionEnabled"


@dataclass(frozen=True)
class Unprotected:
    build: BuildResult  # the templates the create runs on
    tables: list[str]  # the protected tables created unprotected (logical ids)


def unprotected(built: BuildResult, into: Path) -> Unprotected | None:
    """`built` with every table's deletion protection off, written under `into` (nested
    templates that need no change stay where they are); None when no table is protected."""
    nested = dict(built.nested)
    root = built.root.read_text(encoding="utf-8")
    tables: list[str] = []
    for logical_id, path in built.nested.items():
        template = json.loads(path.read_text(encoding="utf-8"))
        turned = [
            name
            for name, resource in template.get("Resources", {}).items()
            if resource.get("Type") == TABLE
            and resource.get("Properties", {}).get(PROTECTION) is True
        ]
        if not turned:
            continue
        for name in turned:
            template["Resources"][name]["Properties"][PROTECTION] = False
        copy = write_nested(into, logical_id, template)
        root = root.replace(path.name, copy.name)  # content addresses: unique in the root
        nested[logical_id] = copy
        tables += [f"{logical_id}.{name}" for name in turned]
    if not tables:
        return None
    (into / "root.json").write_text(root, encoding="utf-8")
    return Unprotected(
        BuildResult(built.env, into, into / "root.json", nested, skipped=False), sorted(tables)
    )


def note(tables: list[str]) -> str:
    return (
        f"the tables are created without deletion protection ({', '.join(tables)}) and protected "
        "by an update right after the create succeeds: DynamoDB refuses to delete a protected "
        "table, so a create that fails late could not roll back otherwise"
    )
