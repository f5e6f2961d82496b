"""The CloudFormation gateway's typed answers: what `aws/cloudformation.py` returns, and how
each is read from CloudFormation's raw responses."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from mirror_infra.aws.path import ResourcePath
from mirror_infra.aws.status import (
    ChangeAction,
    ChangeSetStatus,
    DetectionStatus,
    ExecutionStatus,
    Replacement,
    ResourceDriftStatus,
    ResourceStatus,
    StackStatus,
)

NESTED_STACK = "AWS::CloudFormation::Stack"


@dataclass(frozen=True)
class StackInfo:
    name: str
    stack_id: str
    status: StackStatus
    reason: str
    outputs: dict[str, str]
    parameters: dict[str, str]
    termination_protection: bool
    last_updated: str
    tags: dict[str, str] = field(default_factory=dict)
    parent_id: str = ""  # the stack that holds it as a nested stack ("" when none does)


@dataclass(frozen=True)
class StackResource:
    path: ResourcePath
    resource_type: str
    physical_id: str
    status: str

    @property
    def logical_id(self) -> str:
        return self.path.logical_id

    @property
    def is_stack(self) -> bool:
        return self.resource_type == NESTED_STACK


@dataclass(frozen=True)
class StackNode:
    """One stack of a tree: the root (path "") or a nested stack, with its resources."""

    path: str
    stack_id: str
    resources: list[StackResource]


@dataclass(frozen=True)
class RawEvent:
    """One stack event as DescribeStackEvents gives it."""

    event_id: str
    timestamp: datetime
    logical_id: str
    resource_type: str
    status: ResourceStatus | str
    reason: str
    physical_id: str
    token: str = ""  # the ClientRequestToken of the operation that caused it


@dataclass(frozen=True)
class ResourceChange:
    """One row of a change set."""

    action: ChangeAction
    logical_id: str
    resource_type: str
    replacement: Replacement | None  # only for Modify
    properties: tuple[str, ...]  # changed property names
    physical_id: str
    nested_change_set: str  # a nested stack's own change set, or ""
    # each changed property with where its change comes from (API_ResourceChangeDetail)
    details: tuple[PropertyDetail, ...] = ()
    automatic: bool = False  # every detail's ChangeSource is Automatic (a nested stack "might")
    # the ChangeSource of each detail `details` leaves out (Tags, Metadata, a nested stack's
    # Automatic one): with them, every detail of the row is accounted for
    other_sources: tuple[str, ...] = ()
    policy_action: str = ""  # what happens to the old resource: Delete, Retain, Snapshot, ...
    # drift-aware change sets (DeploymentMode REVERT_DRIFT), values with IncludePropertyValues
    drift_status: str = ""  # ResourceDriftStatus
    values: tuple[PropertyValues, ...] = ()
    actual: dict = field(default_factory=dict)  # BeforeContext's Properties
    template: dict = field(default_factory=dict)  # AfterContext's Properties


# Target.BeforeValueFrom: "ACTUAL_STATE – The before value represents current actual state.
# PREVIOUS_DEPLOYMENT_STATE – The before value represents the previous CloudFormation
# deployment state." (API_ResourceTargetDefinition)
ACTUAL_STATE = "ACTUAL_STATE"
PREVIOUS_DEPLOYMENT_STATE = "PREVIOUS_DEPLOYMENT_STATE"


@dataclass(frozen=True)
class PropertyDetail:
    """One property a change touches and why (API_ResourceChangeDetail): ChangeSource
    (DirectModification, ParameterReference, ResourceReference, ResourceAttribute, Automatic,
    NoModification), Evaluation (Static, or Dynamic: known only at execution), CausingEntity."""

    name: str
    source: str = ""
    evaluation: str = ""
    causing: str = ""

    @property
    def from_template_text(self) -> bool:
        """The change is in the template's own text, so comparing templates shows its values."""
        return self.source == "DirectModification" and self.evaluation != "Dynamic"

    @property
    def changes_nothing(self) -> bool:
        """A drift-aware change set's row that only resets the drift status."""
        return self.source == "NoModification"


@dataclass(frozen=True)
class PropertyValues:
    """One property of a drift-aware change: the template's value, the last deployment's and
    the actual one (Target.AfterValue, Drift.PreviousValue, Drift.ActualValue; Target.BeforeValue
    is one or the other, as Target.BeforeValueFrom says)."""

    path: str
    change: str  # AttributeChangeType: Add, Remove, Modify, SyncWithActual
    template: str
    previous: str | None  # None: the property did not drift
    actual: str | None  # None: AWS did not read it (the before value is the last deployment's)
    before_from: str = ""  # BeforeValueFrom; "" outside drift-aware change sets


def values_of(target: dict) -> PropertyValues:
    """A ResourceTargetDefinition's values, each by its source: BeforeValue is the actual value
    only when BeforeValueFrom is ACTUAL_STATE (or absent); with PREVIOUS_DEPLOYMENT_STATE it is
    the last deployment's, and the actual value is Drift.ActualValue or not known."""
    before = target.get("BeforeValue", "")
    source = target.get("BeforeValueFrom", "")
    from_deployment = source == PREVIOUS_DEPLOYMENT_STATE
    drift = target.get("Drift")
    previous = None
    if drift is not None:
        previous = drift.get("PreviousValue", before if from_deployment else "")
    if drift is not None and "ActualValue" in drift:
        actual: str | None = drift["ActualValue"]
    else:
        actual = None if from_deployment else before
    return PropertyValues(
        path=target.get("Path", target.get("Name", "")),
        change=target.get("AttributeChangeType", ""),
        template=target.get("AfterValue", ""),
        previous=previous,
        actual=actual,
        before_from=source,
    )


@dataclass(frozen=True)
class ChangeSet:
    change_set_id: str
    stack_id: str
    status: ChangeSetStatus
    execution: ExecutionStatus
    reason: str
    changes: list[ResourceChange]
    express: bool = False  # DeploymentConfig Mode EXPRESS


@dataclass(frozen=True)
class ValidationFinding:
    """One pre-deployment validation result of a change set (DescribeEvents,
    EventType VALIDATION_ERROR)."""

    name: str  # ValidationName
    status: str  # ValidationStatus: FAILED, SKIPPED
    mode: str  # ValidationFailureMode: FAIL (blocks execution) or WARN
    logical_id: str
    path: str  # ValidationPath, a JSON pointer into the template
    reason: str

    @property
    def blocks(self) -> bool:
        return self.mode == "FAIL" and self.status == "FAILED"


@dataclass(frozen=True)
class DriftDetection:
    status: DetectionStatus
    stack_drift: str
    reason: str


@dataclass(frozen=True)
class PropertyDifference:
    path: str
    expected: str
    actual: str
    kind: str  # ADD, REMOVE, NOT_EQUAL


@dataclass(frozen=True)
class ResourceDrift:
    logical_id: str
    resource_type: str
    status: ResourceDriftStatus
    expected: str
    actual: str
    differences: list[PropertyDifference]
    reason: str = ""  # DriftStatusReason: why AWS could not check it (UNKNOWN)


def status_of(enum, value: str):
    """An enum member, or the text itself for a value AWS added after this code was written."""
    try:
        return enum(value)
    except ValueError:
        return value


def change_of(rc: dict) -> ResourceChange:
    action = ChangeAction(rc["Action"])
    properties = tuple(
        dict.fromkeys(
            d["Target"]["Name"]
            for d in rc.get("Details", [])
            if d.get("Target", {}).get("Attribute") == "Properties" and d["Target"].get("Name")
        )
    )
    replacement = rc.get("Replacement") if action is ChangeAction.MODIFY else None
    return ResourceChange(
        action=action,
        logical_id=rc["LogicalResourceId"],
        resource_type=rc["ResourceType"],
        replacement=Replacement(replacement) if replacement else None,
        properties=properties,
        physical_id=rc.get("PhysicalResourceId", ""),
        nested_change_set=rc.get("ChangeSetId", "") if rc["ResourceType"] == NESTED_STACK else "",
        details=tuple(
            PropertyDetail(
                name=d["Target"]["Name"],
                source=d.get("ChangeSource", ""),
                evaluation=d.get("Evaluation", ""),
                causing=d.get("CausingEntity", ""),
            )
            for d in rc.get("Details", [])
            if d.get("Target", {}).get("Attribute") == "Properties" and d["Target"].get("Name")
        ),
        automatic=bool(rc.get("Details"))
        and all(d.get("ChangeSource") == "Automatic" for d in rc["Details"]),
        other_sources=tuple(
            d.get("ChangeSource", "")
            for d in rc.get("Details", [])
            if not (
                d.get("Target", {}).get("Attribute") == "Properties" and d["Target"].get("Name")
            )
        ),
        policy_action=rc.get("PolicyAction", ""),
        drift_status=rc.get("ResourceDriftStatus", ""),
        values=tuple(
            values_of(t)
            for t in (d.get("Target", {}) for d in rc.get("Details", []))
            if "AfterValue" in t or "BeforeValue" in t
        ),
        actual=_context(rc.get("BeforeContext")),
        template=_context(rc.get("AfterContext")),
    )


def _context(text: str | None) -> dict:
    """A drift-aware row's BeforeContext/AfterContext: JSON text with the Properties."""
    try:
        return json.loads(text).get("Properties", {}) if text else {}
    except (ValueError, AttributeError):
        return {}


def drift_of(d: dict) -> ResourceDrift:
    return ResourceDrift(
        logical_id=d["LogicalResourceId"],
        resource_type=d["ResourceType"],
        status=ResourceDriftStatus(d["StackResourceDriftStatus"]),
        expected=d.get("ExpectedProperties", ""),
        actual=d.get("ActualProperties", ""),
        differences=[
            PropertyDifference(
                c["PropertyPath"], c["ExpectedValue"], c["ActualValue"], c["DifferenceType"]
            )
            for c in d.get("PropertyDifferences") or []
        ],
        reason=" ".join(str(d.get("DriftStatusReason", "")).split()),
    )
