"""Change set records: a change set as DescribeChangeSet and ListChangeSets show it (paced
mode: shown as being made until it is ready), where the records are kept and found, and their
execution statuses (AVAILABLE, EXECUTE_IN_PROGRESS, OBSOLETE...). What a change set holds is
computed by change_set_computation.py."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import Stack
from moto.core.exceptions import ServiceException

from localaws import pacing
from localaws.cfn import drift_aware
from localaws.providers.base import utcnow


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
    stack_drift_status: str | None = None  # a drift-aware change set's, when it was made
    deployment_config: dict = field(default_factory=dict)  # DeploymentConfig: Mode, DisableRollback
    to_import: dict[str, str] = field(default_factory=dict)  # IMPORT: logical -> physical id
    import_refusals: list[str] = field(default_factory=list)  # why an import cannot happen
    # a nested change set's parameters its root could not resolve: parameter -> the other
    # nested stack's output that feeds it ("Kms.Outputs.KeyArn"; change_set_computation.py)
    unresolved: dict[str, str] = field(default_factory=dict)

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
        if self.stack_drift_status:
            out["StackDriftStatus"] = self.stack_drift_status
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


def pace(record: ChangeSetRecord) -> None:
    """In paced mode, show the change set (and its nested ones) as being made for as long as
    AWS typically takes (pacing.CHANGE_SET_SECONDS for each stack it covers)."""
    items = tree(record)
    ready_at = time.monotonic() + pacing.CHANGE_SET_SECONDS * pacing.current().pace * len(items)
    for item in items:
        item.ready_at = ready_at


def validation_events(record: ChangeSetRecord) -> list[dict]:
    """The validation events of this change set and of its nested change sets."""
    return [event for item in tree(record) for event in item.validation]


def keep(backend: Any, record: ChangeSetRecord) -> None:
    backend.change_sets[record.change_set_id] = record


class ChangeSetNotFound(ServiceException):
    """The change set does not exist: ChangeSetNotFoundException, code ChangeSetNotFound, HTTP
    404 in botocore's model, listed by API_DescribeChangeSet and API_ExecuteChangeSet."""

    code = "ChangeSetNotFound"


def find(
    backend: Any, name_or_id: str, stack_name: str | None = None, documented: bool = True
) -> ChangeSetRecord:
    """The change set by name (on `stack_name`) or id. A missing one is ChangeSetNotFound for the
    operations whose pages list it (`documented`); the others (DeleteChangeSet, DescribeEvents)
    name no error for it, and keep answering ValidationError."""
    if name_or_id in backend.change_sets:
        return backend.change_sets[name_or_id]
    for record in list(backend.change_sets.values()):
        if record.change_set_name == name_or_id and (
            stack_name is None or stack_name in (record.stack_name, record.stack_id)
        ):
            return record
    message = f"ChangeSet [{name_or_id}] does not exist"
    if documented:
        raise ChangeSetNotFound(message)
    raise ValidationError(message=message)


def tree(record: ChangeSetRecord) -> list[ChangeSetRecord]:
    """The change set and its nested ones, at every depth."""
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
    items = tree(record)
    for item in items:
        item.execution_status = "EXECUTE_IN_PROGRESS"
    make_obsolete(backend, record.stack, {item.change_set_id for item in items})


def mark_executed(backend: Any, record: ChangeSetRecord, succeeded: bool) -> None:
    """After execution: this one (and its nested ones) EXECUTE_COMPLETE or EXECUTE_FAILED; every
    other change set of the stack is removed, as CloudFormation does."""
    status = "EXECUTE_COMPLETE" if succeeded else "EXECUTE_FAILED"
    kept = set()
    for item in tree(record):
        item.execution_status = status
        kept.add(item.change_set_id)
    stacks = {r.stack_id for r in list(backend.change_sets.values()) if r.change_set_id in kept}
    for cid, other in list(backend.change_sets.items()):
        if cid not in kept and other.stack_id in stacks:
            del backend.change_sets[cid]


def delete(backend: Any, record: ChangeSetRecord) -> None:
    """Forget the change set and its nested ones."""
    for item in tree(record):
        backend.change_sets.pop(item.change_set_id, None)
