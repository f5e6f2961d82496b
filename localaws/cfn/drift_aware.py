"""Drift-aware change sets (CreateChangeSet `DeploymentMode: REVERT_DRIFT`),
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/drift-aware-change-sets.html:
a three-way comparison of the actual state ("CloudFormation will read the configuration of
resources in your account at the time of change set creation via underlying service APIs", so
no earlier drift detection is needed), the previous deployment and the new template. Executing
one brings drifted properties back to the template and re-creates a resource deleted out of
band; where the template already matches the actual value, only the drift status is reset
(SyncWithActual); a failed execution rolls back to the actual pre-deployment state.

Each ResourceChange carries ResourceDriftStatus; each property detail its Target.Path,
BeforeValue (actual) / AfterValue (template), BeforeValueFrom ACTUAL_STATE, AfterValueFrom
TEMPLATE, AttributeChangeType (Add/Remove/Modify/SyncWithActual) and, for a drifted property,
Drift {PreviousValue, ActualValue}; the row carries BeforeContext (actual), AfterContext
(template) and PreviousDeploymentContext (last deployment) as JSON text. Values are only shown
with DescribeChangeSet IncludePropertyValues (API_DescribeChangeSet: "If true, the returned
changes include detailed changes in the property values").
"""

from __future__ import annotations

import json
from typing import Any

from moto.cloudformation.exceptions import ValidationError

from localaws.cfn import drift, schema
from localaws.cfn.loading import NESTED_STACK
from localaws.cfn.registry import provider_for
from localaws.cfn.stacks import ctx
from localaws.providers.base import NotFound

REVERT_DRIFT = "REVERT_DRIFT"
VALUE_KEYS = ("BeforeValue", "AfterValue", "Drift")
CONTEXT_KEYS = ("BeforeContext", "AfterContext", "PreviousDeploymentContext")


def check_request(mode: str | None, kind: str, include_nested: bool) -> None:
    """A ValidationError for a DeploymentMode CreateChangeSet refuses."""
    if mode is None:
        return
    if mode != REVERT_DRIFT:
        raise ValidationError(
            message=f"1 validation error detected: Value '{mode}' at 'deploymentMode' failed to "
            "satisfy constraint: Member must satisfy enum value set: [REVERT_DRIFT]"
        )
    if kind != "UPDATE":
        # there is no previous deployment or actual state to compare with
        raise ValidationError(
            message=f"DeploymentMode REVERT_DRIFT is not supported for change sets of type {kind}"
        )
    if include_nested:
        raise ValidationError(
            message="DeploymentMode REVERT_DRIFT is not supported with IncludeNestedStacks; "
            "create a drift-aware change set on each nested stack"
        )


def actual_state(stack: Any, rec: Any) -> tuple[str, dict, set[str]]:
    """(ResourceDriftStatus, the properties as they are now in the template's shape, the
    drifted top-level properties). Unsupported or deleted resources keep their last deployed
    properties."""
    provider = provider_for(rec.cf_resource_type)
    previous = rec.properties
    if rec.cf_resource_type == NESTED_STACK or provider is None or not provider.drift_supported:
        return "UNSUPPORTED", previous, set()
    try:
        where = ctx(stack, rec.logical_resource_id)
        live = provider.read(where, rec.physical_resource_id, previous)
    except NotFound:
        return "DELETED", previous, set()
    write_only = schema.write_only(rec.cf_resource_type)
    expected = {k: v for k, v in previous.items() if k not in write_only}
    unordered = schema.unordered_lists(rec.cf_resource_type)
    drifted = {d["PropertyPath"].split("/")[1] for d in drift.compare(expected, live, unordered)}
    shown = drift.project(expected, live, unordered)
    actual = dict(previous)
    for key in drifted:
        if key in shown:
            actual[key] = shown[key]
        else:
            actual.pop(key, None)
    return ("MODIFIED" if drifted else "IN_SYNC"), actual, drifted


def stack_drift_status(stack: Any) -> str:
    """The stack's drift status when a drift-aware change set is made (API_DescribeChangeSet
    StackDriftStatus: "DRIFTED – The stack has drifted from its last deployment", "IN_SYNC –
    The stack is in sync with its last deployment"): DRIFTED when a resource's actual state
    differs from its last deployment or it is gone."""
    resources = list(stack.local.resources.values())
    drifted = any(actual_state(stack, rec)[0] in ("MODIFIED", "DELETED") for rec in resources)
    return "DRIFTED" if drifted else "IN_SYNC"


def row(stack: Any, rec: Any, template_props: dict, create_only: frozenset[str]) -> dict | None:
    """The ResourceChange of one existing resource in a drift-aware change set, or None when
    its template, previous deployment and actual state all agree."""
    status, actual, drifted = actual_state(stack, rec)
    if status == "DELETED":
        return _deleted_row(rec, template_props)
    previous = rec.properties
    read = status in ("MODIFIED", "IN_SYNC")
    before_from = "ACTUAL_STATE" if read else "PREVIOUS_DEPLOYMENT_STATE"
    details = []
    for key in sorted(set(actual) | set(template_props) | drifted):
        before, after = actual.get(key, _ABSENT), template_props.get(key, _ABSENT)
        if before != after:
            change = "Add" if before is _ABSENT else "Remove" if after is _ABSENT else "Modify"
            source = "DirectModification"
        elif key in drifted or previous.get(key, _ABSENT) != after:
            change, source = "SyncWithActual", "NoModification"
        else:
            continue
        recreation = "Always" if key in create_only and change != "SyncWithActual" else "Never"
        target: dict = {"Attribute": "Properties", "Name": key, "RequiresRecreation": recreation}
        if key == "Tags":
            target = {"Attribute": "Tags", "RequiresRecreation": "Never"}
        target.update(
            Path=f"/Properties/{key}",
            BeforeValue=_text(before),
            AfterValue=_text(after),
            BeforeValueFrom=before_from,
            AfterValueFrom="TEMPLATE",
            AttributeChangeType=change,
        )
        if key in drifted:
            target["Drift"] = {
                "PreviousValue": _text(previous.get(key, _ABSENT)),
                "ActualValue": _text(actual.get(key, _ABSENT)),
            }
        details.append({"Target": target, "Evaluation": "Static", "ChangeSource": source})
    if not details:
        return None
    modifying = [d for d in details if d["Target"]["AttributeChangeType"] != "SyncWithActual"]
    replacing = any(d["Target"]["RequiresRecreation"] == "Always" for d in details)
    return {
        "Action": "Modify" if modifying else "SyncWithActual",
        "LogicalResourceId": rec.logical_resource_id,
        "PhysicalResourceId": rec.physical_resource_id,
        "ResourceType": rec.cf_resource_type,
        "Replacement": "True" if replacing else "False",
        "Scope": sorted({d["Target"]["Attribute"] for d in details}),
        "ResourceDriftStatus": status,
        "Details": details,
        "BeforeContext": json.dumps({"Properties": actual}, sort_keys=True),
        "AfterContext": json.dumps({"Properties": template_props}, sort_keys=True),
        "PreviousDeploymentContext": json.dumps({"Properties": previous}, sort_keys=True),
    }


def _deleted_row(rec: Any, template_props: dict) -> dict:
    """A resource deleted out of band: "DELETED – The resource was deleted outside
    CloudFormation" (API_ResourceChange, "Only present for drift-aware change sets"), and
    executing the change set re-creates it ("During change set execution, CloudFormation will
    [...] recreate resources deleted outside of IaC", AWS What's New, November 2025). No page
    says which Action such a row carries: `Add` (it adds the resource again) is the local AWS's
    own choice."""
    return {
        "Action": "Add",
        "LogicalResourceId": rec.logical_resource_id,
        "PhysicalResourceId": rec.physical_resource_id,
        "ResourceType": rec.cf_resource_type,
        "Scope": [],
        "ResourceDriftStatus": "DELETED",
        "Details": [],
        "AfterContext": json.dumps({"Properties": template_props}, sort_keys=True),
        "PreviousDeploymentContext": json.dumps({"Properties": rec.properties}, sort_keys=True),
    }


def without_values(change: dict) -> dict:
    """A ResourceChange as DescribeChangeSet shows it without IncludePropertyValues."""
    out = {k: v for k, v in change.items() if k not in CONTEXT_KEYS}
    if "Details" in out:
        out["Details"] = [
            {**d, "Target": {k: v for k, v in d["Target"].items() if k not in VALUE_KEYS}}
            for d in out["Details"]
        ]
    return out


def revert_actual(stack: Any) -> None:
    """Before a drift-aware execution: each resource's recorded properties become its actual
    ones, so the update changes exactly what differs from the template, and a rollback goes
    back to the actual pre-deployment state."""
    for rec in list(stack.local.resources.values()):
        status, actual, _ = actual_state(stack, rec)
        if status == "MODIFIED":
            rec.properties = actual
        if status == "DELETED":  # the update creates it again, as a resource it adds
            del stack.local.resources[rec.logical_resource_id]
            continue
        rec.drift = None  # its drift status is reset by the deployment


class _Absent:
    def __repr__(self) -> str:
        return "<absent>"


_ABSENT = _Absent()


def _text(value: Any) -> str:
    return "" if value is _ABSENT or value is None else drift.as_text(value)
