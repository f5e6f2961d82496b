"""A change set as DescribeChangeSet and ListChangeSets show it (paced mode: shown as being made
until it is ready)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from moto.cloudformation.models import Stack

from localaws.cfn import drift_aware
from localaws.resources.base import utcnow


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
    import_existing: bool = False  # ImportExistingResources
    deployment_mode: str | None = None  # REVERT_DRIFT: a drift-aware change set
    deployment_config: dict = field(default_factory=dict)  # DeploymentConfig: Mode, DisableRollback
    to_import: dict[str, str] = field(default_factory=dict)  # IMPORT: logical -> physical id
    import_refusals: list[str] = field(default_factory=list)  # why an import cannot happen

    @property
    def express(self) -> bool:
        return self.deployment_config.get("Mode") == "EXPRESS"

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

    def describe(self, include_values: bool = False) -> dict:
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
            "Changes": [
                {
                    "Type": "Resource",
                    "ResourceChange": c if include_values else drift_aware.without_values(c),
                }
                for c in self.changes
            ],
            "IncludeNestedStacks": self.include_nested,
            "ImportExistingResources": self.import_existing,
        }
        if self.deployment_mode:
            out["DeploymentMode"] = self.deployment_mode
        if self.deployment_config:
            out["DeploymentConfig"] = self.deployment_config
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
            "ImportExistingResources": self.import_existing,
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
