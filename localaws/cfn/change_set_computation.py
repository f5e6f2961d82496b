"""What a change set holds, computed as CloudFormation computes it at CreateChangeSet: its rows
(ResourceChange: Action, Replacement, Scope, Details with ChangeSource/CausingEntity/Evaluation;
drift-aware rows from drift_aware.py; Import rows), the nested change sets of an
IncludeNestedStacks change set, pre-deployment validation (validation.py), and the reasons it
is FAILED. The records themselves are change_set_records.py.

Corrects moto, whose change sets carry no Replacement, Scope or Details, create no nested
change sets with IncludeNestedStacks, and raise `ValidationError: No updates are to be
performed.` for a change set without changes where AWS returns a FAILED change set whose
reason says it "didn't contain changes" (SPEC §4). Replacement follows the resource schemas'
createOnlyProperties (`schema.create_only`).

Nested change sets show what AWS shows, cloudformation-coverage-roadmap issue 759 (AWS's own
tracker, open: https://github.com/aws-cloudformation/cloudformation-coverage-roadmap/issues/759;
no documentation page covers it): a nested stack's parameter fed by ANOTHER nested stack's
output (`Fn::GetAtt Other.Outputs.X`) is not resolved when the root's change set makes the
nested change sets, "it does not recurse the change detection ... it shows that there're
changes and resources will be replaced" although nothing changes. So in the nested change set
that parameter is unknown, and every resource whose property uses it is a Modify row with a
Dynamic ParameterReference detail (CausingEntity: the parameter); where the property requires
recreation the row says Replacement True, as the tracker reports, and the resources that refer
to a resource replaced so follow as Dynamic ResourceReference rows. The execution itself reads
the real value, so nothing is replaced that would not be (the rows are phantoms, and
mirror-infra's plan must tell them from real changes).
"""

from __future__ import annotations

import re
from typing import Any

from localaws.cfn import (
    change_set_records,
    drift_aware,
    handlers,
    import_rules,
    schema,
    templates,
    validation,
)
from localaws.cfn.change_set_records import ChangeSetRecord, change_set_arn
from localaws.cfn.intrinsics import (
    Evaluator,
    Unresolvable,
    dependency_order,
    parse_template,
    references,
)
from localaws.cfn.loading import NESTED_STACK, load
from localaws.cfn.registry import provider_for
from localaws.cfn.stacks import ctx, pseudo
from localaws.providers.cloudformation import stack_parameters

NO_CHANGES = (
    "The submitted information didn't contain changes. Submit different information to "
    "create a change set."
)


def make(backend: Any, record: ChangeSetRecord) -> None:
    """Compute the change set's rows (and nested change sets), and register it."""
    stack = record.stack
    if record.change_set_type == "IMPORT":
        record.changes = import_rows(record)
    elif record.change_set_type == "CREATE":
        template, params, _ = load(stack, record.template_body, record.parameters)
        ev = Evaluator(template, params, pseudo(stack), {})
        record.changes = [
            add_or_import_row(record, ev, lid, template["Resources"][lid])
            for lid in dependency_order(template, ev.included)
        ]
    else:
        record.changes = update_rows(backend, record)
        if record.deployment_mode:
            record.stack_drift_status = drift_aware.stack_drift_status(stack)
        # a nested change set with nothing to change is an empty, executable part of its root
        if not record.changes and not record.parent_id and _same_inputs(record):
            record.status, record.execution_status = "FAILED", "UNAVAILABLE"
            record.status_reason = NO_CHANGES
    tree = change_set_records.tree(record)
    refusals = [reason for item in tree for reason in item.import_refusals]
    if refusals:
        record.status, record.execution_status = "FAILED", "UNAVAILABLE"
        record.status_reason = (
            " ".join(refusals)
            if record.change_set_type == "IMPORT"
            else import_rules.AUTO_IMPORT_NEEDS_RETAIN.format(", ".join(refusals))
        )
    elif record.status != "FAILED" and record.change_set_type != "IMPORT":
        _validate(record)
    change_set_records.keep(backend, record)


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
    ev = Evaluator(template, params, pseudo(stack), known, record.unresolved)
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


def _same_inputs(record: ChangeSetRecord) -> bool:
    st = record.stack.local
    template, params, _ = load(record.stack, record.template_body, record.parameters)
    return template == st.template and params == st.parameters


# rows ----------
def add_row(logical_id: str, spec: dict) -> dict:
    return {
        "Action": "Add",
        "LogicalResourceId": logical_id,
        "ResourceType": spec["Type"],
        "Scope": [],
        "Details": [],
    }


def update_rows(backend: Any, record: ChangeSetRecord) -> list[dict]:
    stack = record.stack
    st = stack.local
    template, params, _ = load(stack, record.template_body, record.parameters)
    changed_params = {
        k for k in set(params) | set(st.parameters) if params.get(k) != st.parameters.get(k)
    }
    known = dict(st.resources)  # resources whose Ref/GetAtt values are known in advance
    ev = Evaluator(template, params, pseudo(stack), known, record.unresolved)
    old_body = st.template.get("Resources") or {}
    new_body = template["Resources"]
    rows: list[dict] = []
    kept = set()
    for logical_id in dependency_order(template, ev.included):
        spec = new_body[logical_id]
        kept.add(logical_id)
        rec = st.resources.get(logical_id)
        if rec is None:
            rows.append(add_or_import_row(record, ev, logical_id, spec))
            known.pop(logical_id, None)
            continue
        row = _drift_aware_row(record, ev, rec, spec)
        if row is _NOT_DRIFT_AWARE:
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


_NOT_DRIFT_AWARE: Any = object()


def _drift_aware_row(record: ChangeSetRecord, ev: Evaluator, rec: Any, spec: dict) -> Any:
    """In a drift-aware change set, the row of a resource whose properties all resolve before
    execution (drift_aware.py); `_NOT_DRIFT_AWARE` otherwise (a nested stack, a value known
    only at execution): then the row is a plain one."""
    if not record.deployment_mode or rec.cf_resource_type == NESTED_STACK:
        return _NOT_DRIFT_AWARE
    try:
        props = ev.resolve(spec.get("Properties") or {}) or {}
    except Unresolvable:
        return _NOT_DRIFT_AWARE
    props = {k: v for k, v in props.items() if v is not None}
    create_only = schema.create_only(rec.cf_resource_type) | _extra(rec.cf_resource_type)
    return drift_aware.row(record.stack, rec, props, create_only)


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
    unknown: dict[str, set[str]] = {}  # property -> the unresolved parameters it uses (#759)
    for key, expr in raw_new.items():
        try:
            value = ev.resolve(expr)
        except Unresolvable:
            unknown[key] = _parameter_refs(expr) & ev.unknown_parameters
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
    if not static and not dynamic and not metadata_changed and type_name != NESTED_STACK:
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
        causes = [("ParameterReference", p) for p in sorted(unknown[key])]
        causes += [("ResourceReference", r) for r in sorted(dynamic[key])]
        for source, entity in causes or [("ResourceReference", "")]:
            target = (
                {"Attribute": "Tags", "RequiresRecreation": "Never"}
                if key == "Tags"
                else {"Attribute": "Properties", "Name": key, "RequiresRecreation": recreation}
            )
            detail = {"Target": target, "Evaluation": "Dynamic", "ChangeSource": source}
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
        d["Target"].get("RequiresRecreation") == "Always"
        # a parameter another nested stack's output feeds: "resources will be replaced" (#759)
        and (d["Evaluation"] == "Static" or d["ChangeSource"] == "ParameterReference")
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
    if type_name == NESTED_STACK:
        details.append(
            {
                "Target": {"Attribute": "Properties", "RequiresRecreation": "Never"},
                "Evaluation": "Dynamic",
                "ChangeSource": "Automatic",
            }
        )
        if record.include_nested and not dynamic:
            fed = _fed_by_other_stacks(raw_new.get("Parameters"), ev.template, known)
            nested = _nested_change_set(backend, record, rec, new_props, fed)
            row["ChangeSetId"] = nested.change_set_id
    return row


def _fed_by_other_stacks(parameters: Any, template: dict, known: dict) -> dict[str, str]:
    """A nested stack's parameters whose value is another nested stack's output, that stack
    being updated by the same change set: parameter -> "Other.Outputs.X". AWS does not
    resolve them when it makes the nested change set (#759, module docstring)."""
    stacks = {
        lid
        for lid, spec in (template.get("Resources") or {}).items()
        if spec.get("Type") == NESTED_STACK and lid in known
    }
    fed = {}
    for name, expr in (parameters or {}).items() if isinstance(parameters, dict) else ():
        outputs = sorted(o for o in _outputs_read(expr) if o.split(".", 1)[0] in stacks)
        if outputs:
            fed[name] = outputs[0]
    return fed


def _outputs_read(expr: Any) -> set[str]:
    """The nested stack outputs an expression reads ("Stack.Outputs.X"), by Fn::GetAtt or
    Fn::Sub."""
    return {name for kind, name in _names_read(expr) if kind != "Ref" and ".Outputs." in name}


def _extra(type_name: str) -> frozenset[str]:
    provider = provider_for(type_name)
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
    return {name.split(".")[0] for kind, name in _names_read(expr) if kind != "Fn::GetAtt"}


def _names_read(expr: Any) -> set[tuple[str, str]]:
    """What an expression reads: (Ref, name), (Fn::GetAtt, "Name.Attribute"), (Fn::Sub, each
    ${...} of its text)."""
    found: set[tuple[str, str]] = set()
    if isinstance(expr, dict):
        for key, arg in expr.items():
            if key == "Ref" and isinstance(arg, str):
                found.add((key, arg))
            elif key == "Fn::GetAtt":
                found.add((key, arg if isinstance(arg, str) else ".".join(str(a) for a in arg)))
            elif key == "Fn::Sub":
                text = arg[0] if isinstance(arg, list) else arg
                found |= {(key, m) for m in re.findall(r"\$\{([^}!]*)\}", text)}
                if isinstance(arg, list):
                    found |= _names_read(arg[1])
            else:
                found |= _names_read(arg)
    elif isinstance(expr, list):
        for item in expr:
            found |= _names_read(item)
    return found


def _nested_change_set(
    backend: Any, parent: ChangeSetRecord, rec: Any, props: dict, unresolved: dict[str, str]
) -> ChangeSetRecord:
    body = templates.fetch(props["TemplateURL"], backend.account_id)
    nested_stack = backend.stacks[rec.physical_resource_id]
    name = f"{parent.change_set_name}-{rec.logical_resource_id}"[:120]
    child = ChangeSetRecord(
        change_set_id=change_set_arn(backend, name),
        change_set_name=name,
        stack=nested_stack,
        change_set_type="UPDATE",
        template_body=body,
        parameters=stack_parameters(props),
        capabilities=parent.capabilities,
        import_existing=parent.import_existing,
        deployment_config=parent.deployment_config,
        include_nested=True,
        parent_id=parent.change_set_id,
        root_id=parent.root_id or parent.change_set_id,
        unresolved=unresolved,
    )
    make(backend, child)
    parent.nested.append(child)
    return child


def add_or_import_row(record: Any, ev: Evaluator, logical_id: str, spec: dict) -> dict:
    """An Add row, or with ImportExistingResources an Import row for a resource that exists
    and may be auto-imported; one that exists but lacks DeletionPolicy Retain or
    RetainExceptOnCreate is noted in `record.import_refusals` (the change set fails)."""
    row = add_row(logical_id, spec)
    if not record.import_existing or import_rules.static_name(spec) is None:
        return row
    try:
        props = ev.resolve(spec.get("Properties") or {}) or {}
    except Unresolvable:
        return row
    target = import_rules.auto_import_target(record.stack, logical_id, spec, props)
    if target is not None:
        row.update(Action="Import", PhysicalResourceId=target)
        return row
    refusal = import_rules.needs_retain(record.stack, logical_id, spec, props)
    if refusal:
        record.import_refusals.append(refusal)
    return row


def import_rows(record: Any) -> list[dict]:
    """The rows of an IMPORT change set; a resource that does not exist or belongs to a stack
    is noted in `record.import_refusals` (the change set fails)."""
    stack = record.stack
    template, params, _ = load(stack, record.template_body, record.parameters)
    ev = Evaluator(template, params, pseudo(stack), dict(stack.local.resources))
    rows = []
    for logical_id, physical in record.to_import.items():
        spec = template["Resources"][logical_id]
        props = _import_properties(ev, spec)
        refusal = import_rules.missing_or_owned(stack, logical_id, spec["Type"], physical, props)
        if refusal:
            record.import_refusals.append(refusal)
        rows.append(
            {
                "Action": "Import",
                "LogicalResourceId": logical_id,
                "PhysicalResourceId": physical,
                "ResourceType": spec["Type"],
                "Scope": [],
                "Details": [],
            }
        )
    return rows


def _import_properties(ev: Evaluator, spec: dict) -> dict:
    """The properties of a resource to import as far as they resolve before the import: a
    nested stack's parameters may read another stack imported with it, but its TemplateURL and
    Tags (what nesting checks, cfn/nesting.py) resolve on their own."""
    declared = spec.get("Properties") or {}
    try:
        return ev.resolve(declared) or {}
    except Unresolvable:
        pass
    props = {}
    for key in ("TemplateURL", "Tags") if spec["Type"] == NESTED_STACK else ():
        try:
            if key in declared:
                props[key] = ev.resolve(declared[key])
        except Unresolvable:
            continue
    return props
