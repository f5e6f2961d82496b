"""Change sets as CloudFormation makes them.

Corrects moto, whose change sets carry no Replacement, Scope or Details, create no nested
change sets with IncludeNestedStacks, and raise `ValidationError: No updates are to be
performed.` for a change set without changes where AWS returns a FAILED change set whose
reason says it "didn't contain changes" (SPEC §4). Replacement follows the resource schemas'
createOnlyProperties (`schema.create_only`).
"""

from __future__ import annotations

import time
from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import Stack

from localaws import pacing
from localaws.cfn import change_rows, handlers, imports, validation
from localaws.cfn.change_set_record import ChangeSetRecord
from localaws.cfn.intrinsics import Evaluator, dependency_order, parse_template
from localaws.cfn.loading import NESTED_STACK, load, provider_for
from localaws.cfn.stacks import ctx, pseudo

NO_CHANGES = (
    "The submitted information didn't contain changes. Submit different information to "
    "create a change set."
)


def make(backend: Any, record: ChangeSetRecord) -> None:
    """Compute the change set's rows (and nested change sets), and register it."""
    stack = record.stack
    if record.change_set_type == "IMPORT":
        record.changes = imports.import_rows(record)
    elif record.change_set_type == "CREATE":
        template, params, _ = load(stack, record.template_body, record.parameters)
        ev = Evaluator(template, params, pseudo(stack), {})
        record.changes = [
            imports.add_or_import_row(record, ev, lid, template["Resources"][lid])
            for lid in dependency_order(template, ev.included)
        ]
    else:
        record.changes = change_rows.update_rows(backend, record)
        # a nested change set with nothing to change is an empty, executable part of its root
        if not record.changes and not record.parent_id and _same_inputs(record):
            record.status, record.execution_status = "FAILED", "UNAVAILABLE"
            record.status_reason = NO_CHANGES
    refusals = [reason for item in _tree(record) for reason in item.import_refusals]
    if refusals:
        record.status, record.execution_status = "FAILED", "UNAVAILABLE"
        record.status_reason = (
            " ".join(refusals)
            if record.change_set_type == "IMPORT"
            else imports.AUTO_IMPORT_NEEDS_RETAIN.format(", ".join(refusals))
        )
    elif record.status != "FAILED" and record.change_set_type != "IMPORT":
        _validate(record)
    backend.change_sets[record.change_set_id] = record


VALIDATION_FAILED = (
    "The change set failed pre-deployment validation; DescribeEvents for the change set lists "
    "each failure (ValidationName, ValidationPath)."
)


def _validate(record: ChangeSetRecord) -> None:
    """Pre-deployment validation (validation.py); a FAIL here or in a nested change set makes
    the change set FAILED (not executable), a WARN only adds its event."""
    stack = record.stack
    template, params, _ = load(stack, record.template_body, record.parameters)
    known = dict(stack.local.resources) if record.change_set_type == "UPDATE" else {}
    ev = Evaluator(template, params, pseudo(stack), known)
    rows = {r["LogicalResourceId"]: r for r in record.changes}
    findings = []
    for logical_id in dependency_order(template, ev.included):
        spec = template["Resources"][logical_id]
        props, unknown = {}, set()
        for key, expr in (spec.get("Properties") or {}).items():
            try:
                value = ev.resolve(expr)
            except Exception:  # noqa: BLE001 - known only at execution (a new resource's Ref)
                unknown.add(key)
                continue
            if value is not None:  # AWS::NoValue
                props[key] = value
        findings += validation.property_findings(logical_id, spec["Type"], props, unknown)
        name_property = handlers.name_property(spec["Type"])
        if rows.get(logical_id, {}).get("Action") == "Add" and name_property not in unknown:
            conflict = validation.name_conflict(
                ctx(stack, logical_id),
                provider_for(spec["Type"]),
                spec["Type"],
                name_property,
                props,
            )
            findings += [conflict] if conflict else []
        if spec["Type"] == NESTED_STACK and rows.get(logical_id, {}).get("Action") == "Add":
            findings += _new_nested_conflicts(stack, logical_id, props)
    for row in record.changes:
        if (
            row["Action"] == "Remove"
            and row["ResourceType"] == "AWS::S3::Bucket"
            and row.get("PolicyAction") == "Delete"
            and row.get("PhysicalResourceId")
        ):
            lid = row["LogicalResourceId"]
            warning = validation.bucket_not_empty(ctx(stack, lid), lid, row["PhysicalResourceId"])
            findings += [warning] if warning else []
    record.validation = [f.event(stack, record.operation_id) for f in findings]
    failed = any(f.mode == "FAIL" for f in findings) or any(
        n.status == "FAILED" and n.status_reason == VALIDATION_FAILED for n in record.nested
    )
    if failed:
        record.status, record.execution_status = "FAILED", "UNAVAILABLE"
        record.status_reason = VALIDATION_FAILED


def _new_nested_conflicts(stack: Any, logical_id: str, props: dict) -> list:
    """Name conflicts inside a nested stack the change set adds (it has no nested change set of
    its own before it exists): validate-stack-deployments.html checks "resource names that
    conflict with resources that already exist" for the whole deployment. Names that depend on
    values known only at execution are not checked (AWS's check is best-effort too)."""
    from localaws.cfn import templates

    try:
        child = parse_template(templates.fetch(str(props.get("TemplateURL", "")), stack.account_id))
    except Exception:  # noqa: BLE001 - an unreadable template fails the create itself
        return []
    ev = Evaluator(child, {}, pseudo(stack), {})
    findings = []
    for nested_id, spec in (child.get("Resources") or {}).items():
        name_property = handlers.name_property(spec.get("Type", ""))
        expr = (spec.get("Properties") or {}).get(name_property) if name_property else None
        if expr is None:
            continue
        try:
            name = ev.resolve(expr)
        except Exception:  # noqa: BLE001 - a parameter or another resource's value
            continue
        found = validation.name_conflict(
            ctx(stack, nested_id),
            provider_for(spec["Type"]),
            spec["Type"],
            name_property,
            {name_property: name},
        )
        findings += [found] if found else []
    return findings


def pace(record: ChangeSetRecord) -> None:
    """In paced mode, show the change set (and its nested ones) as being made for as long as
    AWS typically takes (pacing.CHANGE_SET_SECONDS for each stack it covers)."""
    tree = _tree(record)
    ready_at = time.monotonic() + pacing.CHANGE_SET_SECONDS * pacing.current().pace * len(tree)
    for item in tree:
        item.ready_at = ready_at


def validation_events(record: ChangeSetRecord) -> list[dict]:
    """The validation events of this change set and of its nested change sets."""
    return [event for item in _tree(record) for event in item.validation]


def _same_inputs(record: ChangeSetRecord) -> bool:
    st = record.stack.local
    template, params, _ = load(record.stack, record.template_body, record.parameters)
    return template == st.template and params == st.parameters


def find(backend: Any, name_or_id: str, stack_name: str | None = None) -> ChangeSetRecord:
    if name_or_id in backend.change_sets:
        return backend.change_sets[name_or_id]
    for record in list(backend.change_sets.values()):
        if record.change_set_name == name_or_id and (
            stack_name is None or stack_name in (record.stack_name, record.stack_id)
        ):
            return record
    raise ValidationError(message=f"ChangeSet [{name_or_id}] does not exist")


def _tree(record: ChangeSetRecord) -> list[ChangeSetRecord]:
    out, todo = [], [record]
    while todo:
        item = todo.pop()
        out.append(item)
        todo.extend(item.nested)
    return out


def make_obsolete(backend: Any, stack: Stack, keep: set[str] = frozenset()) -> None:
    """Every other change set of the stack (and of its nested stacks) can no longer be
    executed: it was computed against a stack that is about to change (ExecutionStatus
    OBSOLETE)."""
    ids = {stack.stack_id}
    for other in list(backend.stacks.values()):
        if other.local.root_id == stack.stack_id:
            ids.add(other.stack_id)
    for record in list(backend.change_sets.values()):
        if (
            record.stack_id in ids
            and record.change_set_id not in keep
            and record.execution_status in ("AVAILABLE", "UNAVAILABLE")
        ):
            record.execution_status = "OBSOLETE"


def start_execution(backend: Any, record: ChangeSetRecord) -> None:
    """This change set (and its nested ones) EXECUTE_IN_PROGRESS; every other one OBSOLETE."""
    tree = _tree(record)
    for item in tree:
        item.execution_status = "EXECUTE_IN_PROGRESS"
    make_obsolete(backend, record.stack, {item.change_set_id for item in tree})


def mark_executed(backend: Any, record: ChangeSetRecord, succeeded: bool) -> None:
    """After execution: this one (and its nested ones) EXECUTE_COMPLETE or EXECUTE_FAILED; every
    other change set of the stack is removed, as CloudFormation does."""
    status = "EXECUTE_COMPLETE" if succeeded else "EXECUTE_FAILED"
    todo = [record]
    keep = set()
    while todo:
        item = todo.pop()
        item.execution_status = status
        keep.add(item.change_set_id)
        todo.extend(item.nested)
    stacks = {r.stack_id for r in list(backend.change_sets.values()) if r.change_set_id in keep}
    for cid, other in list(backend.change_sets.items()):
        if cid not in keep and other.stack_id in stacks:
            del backend.change_sets[cid]
