"""What the engine keeps per stack and per resource (moto's Stack object carries it as
`.local` so moto's own DescribeStacks/DescribeStackEvents serialisation keeps working)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from localaws.providers.base import utcnow


@dataclass
class Resource:
    """One stack resource, as DescribeStackResources shows it."""

    logical_resource_id: str
    cf_resource_type: str
    physical_resource_id: str | None = None
    properties: dict = field(default_factory=dict)  # resolved, as last applied
    attributes: Mapping = field(default_factory=dict)  # GetAtt values
    status: str = "CREATE_IN_PROGRESS"
    status_reason: str | None = None
    timestamp: datetime = field(default_factory=utcnow)
    deletion_policy: str = "Delete"
    update_replace_policy: str = "Delete"
    drift: dict | None = None  # the last StackResourceDrift
    imported: bool = False  # brought in by an import: a rollback forgets it, never deletes it

    def ref(self) -> Any:
        return self.physical_resource_id

    def get_att(self, name: str) -> Any:
        return self.attributes[name]

    # moto's serialisers and clean_json call these
    @property
    def resource_type(self) -> str:
        return self.cf_resource_type

    def get_cfn_attribute(self, name: str) -> Any:
        return self.get_att(name)


@dataclass
class StackState:
    template: dict
    parameters: dict[str, Any]  # typed values
    given_parameters: dict[str, str]  # as the caller gave them (UsePreviousValue)
    no_echo: set = field(default_factory=set)
    resources: dict[str, Resource] = field(default_factory=dict)  # creation order
    outputs: list[dict] = field(default_factory=list)
    parent_id: str | None = None
    root_id: str | None = None
    capabilities: list[str] = field(default_factory=list)
    drift_status: str = "NOT_CHECKED"
    drift_checked: datetime | None = None
    status_reason: str | None = None
    last_updated: datetime | None = None
    deletion_time: datetime | None = None
    disable_rollback: bool = False  # created with OnFailure DO_NOTHING / DisableRollback
    cancel_requested: bool = False  # CancelUpdateStack on this (root) stack's update
    pending_rollback: Any = None  # what an UPDATE_ROLLBACK_FAILED rollback has left to do
    # the running create/update was asked to ImportExistingResources (nested stacks inherit it)
    import_existing: bool = False

    def parameter_list(self) -> list[dict[str, str]]:
        out = []
        for key, value in self.parameters.items():
            shown = ",".join(value) if isinstance(value, list) else str(value)
            out.append(
                {"ParameterKey": key, "ParameterValue": "****" if key in self.no_echo else shown}
            )
        return out
