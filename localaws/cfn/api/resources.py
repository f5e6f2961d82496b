"""Stack resource and event actions: DescribeStackEvents (paged as AWS pages it),
DescribeStackResources, DescribeStackResource and ListStackResources."""

from __future__ import annotations

from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import Stack
from moto.core.responses import ActionResult

from localaws.cfn.api.common import backend_of, find_stack


def _resource(stack: Stack, rec: Any, detail: bool = False) -> dict:
    drift_info = {"StackResourceDriftStatus": "NOT_CHECKED"}
    if rec.drift:
        drift_info = {
            "StackResourceDriftStatus": rec.drift["StackResourceDriftStatus"],
            "LastCheckTimestamp": rec.drift["Timestamp"],
        }
    out = {
        "StackName": stack.name,
        "StackId": stack.stack_id,
        "LogicalResourceId": rec.logical_resource_id,
        "PhysicalResourceId": rec.physical_resource_id or "",
        "ResourceType": rec.cf_resource_type,
        "ResourceStatus": rec.status,
        "DriftInformation": drift_info,
    }
    if rec.status_reason:
        out["ResourceStatusReason"] = rec.status_reason
    if detail:
        out["LastUpdatedTimestamp"] = rec.timestamp
        metadata = (stack.local.template.get("Resources") or {}).get(rec.logical_resource_id, {})
        if metadata.get("Metadata"):
            import json

            out["Metadata"] = json.dumps(metadata["Metadata"])
    else:
        out["Timestamp"] = rec.timestamp
    return out


EVENTS_PAGE = 100  # AWS answers DescribeStackEvents in pages of at most 100 events


def describe_stack_events(self: Any) -> ActionResult:
    """Newest first, at most EVENTS_PAGE a page; NextToken names the last event returned, so
    events recorded between two pages never shift the next page."""
    backend = backend_of(self)
    stack = find_stack(backend, self._get_param("StackName"), include_deleted=True)
    events = list(reversed(stack.events))
    token = self._get_param("NextToken")
    start = 0
    if token:
        ids = [str(e.event_id) for e in events]
        if token not in ids:
            raise ValidationError(message="Invalid NextToken")
        start = ids.index(token) + 1
    page = events[start : start + EVENTS_PAGE]
    out: dict[str, Any] = {"StackEvents": page}
    if start + EVENTS_PAGE < len(events):
        out["NextToken"] = str(page[-1].event_id)
    return ActionResult(out)


def describe_stack_resources(self: Any) -> ActionResult:
    """By StackName, or by PhysicalResourceId alone: "to find which stack the instance belongs
    to and what other resources are part of the stack"
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStackResources.html)."""
    backend = backend_of(self)
    physical = self._get_param("PhysicalResourceId")
    if physical and not self._get_param("StackName"):
        stack = _owner(backend, physical)
    else:
        stack = find_stack(backend, self._get_param("StackName"), include_deleted=True)
    logical = self._get_param("LogicalResourceId")
    rows = [
        _resource(stack, r)
        for r in list(stack.local.resources.values())
        if logical is None or r.logical_resource_id == logical
    ]
    return ActionResult({"StackResources": rows})


def _owner(backend: Any, physical_id: str) -> Stack:
    for stack in list(backend.stacks.values()):
        local = getattr(stack, "local", None)
        if local is None or stack.status == "DELETE_COMPLETE":
            continue
        if any(r.physical_resource_id == physical_id for r in local.resources.values()):
            return stack
    raise ValidationError(message=f"Stack for {physical_id} does not exist")


def describe_stack_resource(self: Any) -> ActionResult:
    backend = backend_of(self)
    stack = find_stack(backend, self._get_param("StackName"), include_deleted=True)
    logical = self._get_param("LogicalResourceId")
    rec = stack.local.resources.get(logical)
    if rec is None:
        raise ValidationError(
            message=f"Resource {logical} does not exist for stack {self._get_param('StackName')}"
        )
    return ActionResult({"StackResourceDetail": _resource(stack, rec, detail=True)})


def list_stack_resources(self: Any) -> ActionResult:
    backend = backend_of(self)
    stack = find_stack(backend, self._get_param("StackName"), include_deleted=True)
    rows = []
    for rec in list(stack.local.resources.values()):
        row = _resource(stack, rec)
        row["LastUpdatedTimestamp"] = row.pop("Timestamp")
        row.pop("StackName")
        row.pop("StackId")
        rows.append(row)
    return ActionResult({"StackResourceSummaries": rows})
