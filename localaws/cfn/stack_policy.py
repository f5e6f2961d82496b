"""Stack policies, enforced on updates as CloudFormation enforces them.

Corrects moto, which stores a stack policy (SetStackPolicy) but never applies it, so an update
that production's policy forbids (Update:Replace / Update:Delete on a stateful resource) would
go through locally.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

from localaws.providers.base import ResourceFailure


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _matches(patterns: list, value: str) -> bool:
    return any(fnmatch.fnmatchcase(value, str(p)) for p in patterns)


def _applies(statement: dict, action: str, logical_id: str, type_name: str) -> bool:
    if "Action" in statement and not _matches(_as_list(statement["Action"]), action):
        return False
    if "NotAction" in statement and _matches(_as_list(statement["NotAction"]), action):
        return False
    target = f"LogicalResourceId/{logical_id}"
    if "Resource" in statement and not _matches(_as_list(statement["Resource"]), target):
        return False
    if "NotResource" in statement and _matches(_as_list(statement["NotResource"]), target):
        return False
    for operator, conditions in (statement.get("Condition") or {}).items():
        for key, wanted in conditions.items():
            if key != "ResourceType":
                continue
            patterns = _as_list(wanted)
            if operator == "StringEquals" and type_name not in patterns:
                return False
            if operator == "StringLike" and not _matches(patterns, type_name):
                return False
            if operator == "StringNotEquals" and type_name in patterns:
                return False
            if operator == "StringNotLike" and _matches(patterns, type_name):
                return False
    return True


def check(stack: Any, action: str, logical_id: str, type_name: str) -> None:
    """Raise a ResourceFailure when the stack's policy does not allow `action` on a resource."""
    if action == "Update:Create":
        return  # stack policies govern existing resources only
    text = getattr(stack, "policy", "") or ""
    if not text:
        return
    statements = _as_list(json.loads(text).get("Statement"))
    allowed = False
    for number, statement in enumerate(statements, start=1):
        if not _applies(statement, action, logical_id, type_name):
            continue
        if statement.get("Effect") == "Deny":
            raise ResourceFailure(
                f"Action denied by stack policy: Statement [#{number}] denies {action} on "
                f"LogicalResourceId/{logical_id}"
            )
        allowed = True
    if not allowed:
        raise ResourceFailure(
            f"Action denied by stack policy: no statement allows {action} on "
            f"LogicalResourceId/{logical_id}"
        )
