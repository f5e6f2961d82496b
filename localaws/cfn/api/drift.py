"""Drift actions: DetectStackDrift, DescribeStackDriftDetectionStatus,
DescribeStackResourceDrifts and DetectStackResourceDrift (the checks are in cfn/drift.py)."""

from __future__ import annotations

from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.core.responses import ActionResult

from localaws.cfn import drift
from localaws.cfn.api.common import backend_of, find_stack


def detect_stack_drift(self: Any) -> ActionResult:
    backend = backend_of(self)
    stack = find_stack(backend, self._get_param("StackName"))
    if stack.status.endswith("_IN_PROGRESS") or stack.status in ("ROLLBACK_COMPLETE",):
        raise ValidationError(
            message=f"Drift detection cannot be performed on stack {stack.stack_id} in status "
            f"{stack.status}"
        )
    detection = drift.detect_stack(stack)
    return ActionResult({"StackDriftDetectionId": detection["StackDriftDetectionId"]})


def describe_stack_drift_detection_status(self: Any) -> ActionResult:
    detection_id = self._get_param("StackDriftDetectionId")
    found = drift.detections(backend_of(self)).get(detection_id)
    if found is None:
        raise ValidationError(message=f"Drift detection {detection_id} does not exist")
    return ActionResult(found)


def describe_stack_resource_drifts(self: Any) -> ActionResult:
    backend = backend_of(self)
    stack = find_stack(backend, self._get_param("StackName"))
    wanted = set(self._get_param("StackResourceDriftStatusFilters", []) or [])
    rows = [
        r.drift
        for r in list(stack.local.resources.values())
        if r.drift and (not wanted or r.drift["StackResourceDriftStatus"] in wanted)
    ]
    return ActionResult({"StackResourceDrifts": rows})


def detect_stack_resource_drift(self: Any) -> ActionResult:
    backend = backend_of(self)
    stack = find_stack(backend, self._get_param("StackName"))
    logical = self._get_param("LogicalResourceId")
    rec = stack.local.resources.get(logical)
    if rec is None:
        raise ValidationError(message=f"Resource {logical} does not exist for stack {stack.name}")
    return ActionResult({"StackResourceDrift": drift.detect_resource(stack, rec)})
