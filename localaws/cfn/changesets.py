"""Change sets as CloudFormation makes them.

Corrects moto, whose change sets carry no Replacement, Scope or Details, create no nested
change sets with IncludeNestedStacks, and raise `ValidationError: No updates are to be
performed.` for a change set without changes where AWS returns a FAILED change set whose
reason says it "didn't contain changes" (SPEC §4). Replacement follows the resource schemas'
createOnlyProperties (`schema.create_only`).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import Stack

from localaws import pacing
from localaws.cfn import engine, schema, templates, validation
from localaws.cfn.intrinsics import (
    Evaluator,
    Unresolvable,
    dependency_order,
    references,
)
from localaws.resources.base import utcnow

NO_CHANGES = (
    "The submitted information didn't contain changes. Submit different information to "
    "create a change set."
)


@dataclass
class ChangeSetRecord:
    change_set_id: str
    change_set_name: str
    stack: Stack
    change_set_type: str  # CREATE | UPDATE
    template_body: str
    parameters: dict[str, str]
    description: str | None = None
    capabilities: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    include_nested: bool = False
    on_stack_failure: str | None = None  # ROLLBACK | DELETE | DO_NOTHING (CREATE change sets)
    parent_id: str | None = None
    root_id: str | None = None
    status: str = "CREATE_COMPLETE"
    status_reason: str | None = None
    execution_status: str = "AVAILABLE"
    changes: list[dict] = field(default_factory=list)
    nested: list[ChangeSetRecord] = field(default_factory=list)
    creation_time: datetime = field(default_factory=utcnow)
    operation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    ready_at: float = 0.0  # time.monotonic() at which it shows as made (paced mode)
    validation: list[dict] = field(default_factory=list)  # DescribeEvents' OperationEvents

    @property
    def stack_id(self) -> str:
        return self.stack.stack_id

    @property
    def stack_name(self) -> str:
        return self.stack.name

    def creating(self) -> bool:
        """Still being made, as AWS makes change sets asynchronously (paced mode only)."""
        return time.monotonic() < self.ready_at

    def _shown(self, out: dict) -> dict:
        if self.creating():
            out.update(Status="CREATE_IN_PROGRESS", ExecutionStatus="UNAVAILABLE")
            out.pop("StatusReason", None)
            if "Changes" in out:
                out["Changes"] = []
        return out

    def describe(self) -> dict:
        out: dict[str, Any] = {
            "ChangeSetName": self.change_set_name,
            "ChangeSetId": self.change_set_id,
            "StackId": self.stack_id,
            "StackName": self.stack_name,
            "Parameters": [
                {"ParameterKey": k, "ParameterValue": v} for k, v in self.parameters.items()
            ],
            "CreationTime": self.creation_time,
            "ExecutionStatus": self.execution_status,
            "Status": self.status,
            "NotificationARNs": [],
            "RollbackConfiguration": {},
            "Capabilities": self.capabilities,
            "Tags": [{"Key": k, "Value": v} for k, v in self.tags.items()],
            "Changes": [{"Type": "Resource", "ResourceChange": c} for c in self.changes],
            "IncludeNestedStacks": self.include_nested,
        }
        if self.description:
            out["Description"] = self.description
        if self.status_reason:
            out["StatusReason"] = self.status_reason
        if self.parent_id:
            out["ParentChangeSetId"] = self.parent_id
        if self.root_id:
            out["RootChangeSetId"] = self.root_id
        return self._shown(out)

    def summary(self) -> dict:
        out = {
            "StackId": self.stack_id,
            "StackName": self.stack_name,
            "ChangeSetId": self.change_set_id,
            "ChangeSetName": self.change_set_name,
            "ExecutionStatus": self.execution_status,
            "Status": self.status,
            "CreationTime": self.creation_time,
            "IncludeNestedStacks": self.include_nested,
        }
        if self.status_reason:
            out["StatusReason"] = self.status_reason
        if self.description:
            out["Description"] = self.description
        if self.parent_id:
            out["ParentChangeSetId"] = self.parent_id
        if self.root_id:
            out["RootChangeSetId"] = self.root_id
        return self._shown(out)


def change_set_arn(backend: Any, name: str) -> str:
    return (
        f"arn:aws:cloudformation:{backend.region_name}:{backend.account_id}:changeSet/"
        f"{name}/{uuid.uuid4()}"
    )


def make(backend: Any, record: ChangeSetRecord) -> None:
    """Compute the change set's rows (and nested change sets), and register it."""
    stack = record.stack
    if record.change_set_type == "CREATE":
        template, params, _ = engine.load(stack, record.template_body, record.parameters)
        ev = Evaluator(template, params, engine._pseudo(stack), {})
        record.changes = [
            _add_row(lid, template["Resources"][lid])
            for lid in dependency_order(template, ev.included)
        ]
    else:
        record.changes = _update_rows(backend, record)
        # a nested change set with nothing to change is an empty, executable part of its root
        if not record.changes and not record.parent_id and _same_inputs(record):
            record.status, record.execution_status = "FAILED", "UNAVAILABLE"
            record.status_reason = NO_CHANGES
    if record.status != "FAILED":
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
    template, params, _ = engine.load(stack, record.template_body, record.parameters)
    known = dict(stack.local.resources) if record.change_set_type == "UPDATE" else {}
    ev = Evaluator(template, params, engine._pseudo(stack), known)
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
        name_property = engine.name_property(spec["Type"])
        if rows.get(logical_id, {}).get("Action") == "Add" and name_property not in unknown:
            conflict = validation.name_conflict(
                engine._ctx(stack, logical_id),
                engine.provider_for(spec["Type"]),
                spec["Type"],
                name_property,
                props,
            )
            findings += [conflict] if conflict else []
    for row in record.changes:
        if (
            row["Action"] == "Remove"
            and row["ResourceType"] == "AWS::S3::Bucket"
            and row.get("PolicyAction") == "Delete"
            and row.get("PhysicalResourceId")
        ):
            lid = row["LogicalResourceId"]
            warning = validation.bucket_not_empty(
                engine._ctx(stack, lid), lid, row["PhysicalResourceId"]
            )
            findings += [warning] if warning else []
    record.validation = [f.event(stack, record.operation_id) for f in findings]
    failed = any(f.mode == "FAIL" for f in findings) or any(
        n.status == "FAILED" and n.status_reason == VALIDATION_FAILED for n in record.nested
    )
    if failed:
        record.status, record.execution_status = "FAILED", "UNAVAILABLE"
        record.status_reason = VALIDATION_FAILED


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
    template, params, _ = engine.load(record.stack, record.template_body, record.parameters)
    return template == st.template and params == st.parameters


def _add_row(logical_id: str, spec: dict) -> dict:
    return {
        "Action": "Add",
        "LogicalResourceId": logical_id,
        "ResourceType": spec["Type"],
        "Scope": [],
        "Details": [],
    }


def _update_rows(backend: Any, record: ChangeSetRecord) -> list[dict]:
    stack = record.stack
    st = stack.local
    template, params, _ = engine.load(stack, record.template_body, record.parameters)
    changed_params = {
        k for k in set(params) | set(st.parameters) if params.get(k) != st.parameters.get(k)
    }
    known = dict(st.resources)  # resources whose Ref/GetAtt values are known in advance
    ev = Evaluator(template, params, engine._pseudo(stack), known)
    old_body = st.template.get("Resources") or {}
    new_body = template["Resources"]
    rows: list[dict] = []
    kept = set()
    for logical_id in dependency_order(template, ev.included):
        spec = new_body[logical_id]
        kept.add(logical_id)
        rec = st.resources.get(logical_id)
        if rec is None:
            rows.append(_add_row(logical_id, spec))
            known.pop(logical_id, None)
            continue
        row = _modify_row(
            backend, record, ev, rec, spec, old_body.get(logical_id, {}), changed_params, known
        )
        if row is not None:
            rows.append(row)
            if row.get("Replacement") in ("True", "Conditional"):
                known.pop(logical_id, None)  # its Ref/GetAtt values are not known yet
    for logical_id, rec in st.resources.items():
        if logical_id not in kept:
            rows.append(
                {
                    "Action": "Remove",
                    "LogicalResourceId": logical_id,
                    "PhysicalResourceId": rec.physical_resource_id,
                    "ResourceType": rec.cf_resource_type,
                    "PolicyAction": "Retain" if rec.deletion_policy == "Retain" else "Delete",
                    "Scope": [],
                    "Details": [],
                }
            )
    return rows


def _modify_row(
    backend: Any,
    record: ChangeSetRecord,
    ev: Evaluator,
    rec: Any,
    spec: dict,
    old_spec: dict,
    changed_params: set[str],
    known: dict,
) -> dict | None:
    type_name = rec.cf_resource_type
    raw_new = spec.get("Properties") or {}
    raw_old = old_spec.get("Properties") or {}
    new_props: dict = {}
    dynamic: dict[str, set[str]] = {}
    for key, expr in raw_new.items():
        try:
            value = ev.resolve(expr)
        except Unresolvable:
            dynamic[key] = references(expr, ev.template["Resources"]) - set(known)
            continue
        if value is not None:
            new_props[key] = value
    old_props = rec.properties
    static = {
        k
        for k in (set(new_props) | set(old_props)) - set(dynamic)
        if new_props.get(k) != old_props.get(k)
    }
    metadata_changed = spec.get("Metadata") != old_spec.get("Metadata")
    # a nested stack is listed even when nothing of its own changed: AWS cannot know whether
    # its template did until it updates it (ChangeSource Automatic, API_ResourceChangeDetail)
    if not static and not dynamic and not metadata_changed and type_name != engine.NESTED_STACK:
        return None
    create_only = schema.create_only(type_name) | _extra(type_name)
    details: list[dict] = []
    scope: list[str] = []
    for key in sorted(static):
        recreation = "Always" if key in create_only else "Never"
        if key == "Tags":
            target = {"Attribute": "Tags", "RequiresRecreation": "Never"}
            scope.append("Tags")
        else:
            target = {"Attribute": "Properties", "Name": key, "RequiresRecreation": recreation}
            scope.append("Properties")
        details.append(
            {
                "Target": target,
                "Evaluation": "Static",
                **_source(key, raw_old, raw_new, changed_params, ev),
            }
        )
    for key in sorted(dynamic):
        recreation = "Always" if key in create_only else "Never"
        scope.append("Tags" if key == "Tags" else "Properties")
        for entity in sorted(dynamic[key]) or [""]:
            target = (
                {"Attribute": "Tags", "RequiresRecreation": "Never"}
                if key == "Tags"
                else {"Attribute": "Properties", "Name": key, "RequiresRecreation": recreation}
            )
            detail = {
                "Target": target,
                "Evaluation": "Dynamic",
                "ChangeSource": "ResourceReference",
            }
            if entity:
                detail["CausingEntity"] = entity
            details.append(detail)
    if metadata_changed:
        scope.append("Metadata")
        details.append(
            {
                "Target": {"Attribute": "Metadata", "RequiresRecreation": "Never"},
                "Evaluation": "Static",
                "ChangeSource": "DirectModification",
            }
        )
    replacement = "False"
    if any(
        d["Target"].get("RequiresRecreation") == "Always" and d["Evaluation"] == "Static"
        for d in details
    ):
        replacement = "True"
    elif any(d["Target"].get("RequiresRecreation") in ("Always", "Conditionally") for d in details):
        replacement = "Conditional"
    row = {
        "Action": "Modify",
        "LogicalResourceId": rec.logical_resource_id,
        "PhysicalResourceId": rec.physical_resource_id,
        "ResourceType": type_name,
        "Replacement": replacement,
        "Scope": sorted(set(scope)),
        "Details": details,
    }
    if replacement == "True":
        row["PolicyAction"] = (
            "ReplaceAndRetain"
            if spec.get("UpdateReplacePolicy") == "Retain"
            else "ReplaceAndDelete"
        )
    if type_name == engine.NESTED_STACK:
        details.append(
            {
                "Target": {"Attribute": "Properties", "RequiresRecreation": "Never"},
                "Evaluation": "Dynamic",
                "ChangeSource": "Automatic",
            }
        )
        if record.include_nested and not dynamic:
            nested = _nested_change_set(backend, record, rec, new_props)
            row["ChangeSetId"] = nested.change_set_id
    return row


def _extra(type_name: str) -> frozenset[str]:
    provider = engine.provider_for(type_name)
    return provider.extra_replacement if provider else frozenset()


def _source(
    key: str, raw_old: dict, raw_new: dict, changed_params: set[str], ev: Evaluator
) -> dict:
    """Why a property changed: the template text, a parameter, or a resource it refers to."""
    if raw_old.get(key) != raw_new.get(key):
        return {"ChangeSource": "DirectModification"}
    refs = _parameter_refs(raw_new.get(key))
    causing = sorted(refs & changed_params)
    if causing:
        return {"ChangeSource": "ParameterReference", "CausingEntity": causing[0]}
    resources = sorted(references(raw_new.get(key), ev.template["Resources"]))
    if resources:
        return {"ChangeSource": "ResourceAttribute", "CausingEntity": resources[0]}
    return {"ChangeSource": "DirectModification"}


def _parameter_refs(expr: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(expr, dict):
        for k, v in expr.items():
            if k == "Ref" and isinstance(v, str):
                found.add(v)
            elif k == "Fn::Sub":
                import re

                text = v[0] if isinstance(v, list) else v
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^}!]*)\}", text)}
                if isinstance(v, list):
                    found |= _parameter_refs(v[1])
            else:
                found |= _parameter_refs(v)
    elif isinstance(expr, list):
        for item in expr:
            found |= _parameter_refs(item)
    return found


def _nested_change_set(
    backend: Any, parent: ChangeSetRecord, rec: Any, props: dict
) -> ChangeSetRecord:
    body = templates.fetch(props["TemplateURL"], backend.account_id)
    nested_stack = rec.stack
    name = f"{parent.change_set_name}-{rec.logical_resource_id}"[:120]
    child = ChangeSetRecord(
        change_set_id=change_set_arn(backend, name),
        change_set_name=name,
        stack=nested_stack,
        change_set_type="UPDATE",
        template_body=body,
        parameters=engine._nested_parameters(props),
        capabilities=parent.capabilities,
        include_nested=True,
        parent_id=parent.change_set_id,
        root_id=parent.root_id or parent.change_set_id,
    )
    make(backend, child)
    parent.nested.append(child)
    return child


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
