"""The CloudFormation gateway: every CloudFormation call the tool makes, in one place, with
typed answers (dataclasses and enums) and paging done here once. Nothing outside this module
calls the CloudFormation client (tests/test_layout.py checks it); AWS error text is matched in
`aws/errors.py` only.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from itertools import islice
from typing import Any

from botocore.exceptions import ClientError

from mirror_infra.aws.cfn_answers import (
    ChangeSet,
    DriftDetection,
    RawEvent,
    ResourceDrift,
    StackInfo,
    StackNode,
    StackResource,
    ValidationFinding,
    change_of,
    drift_of,
    status_of,
)
from mirror_infra.aws.errors import AwsErrorKind, classify
from mirror_infra.aws.path import ResourcePath
from mirror_infra.aws.status import (
    ChangeSetStatus,
    DetectionStatus,
    ExecutionStatus,
    ResourceDriftStatus,
    ResourceStatus,
    StackStatus,
)
from mirror_infra.aws.wait import Backoff, poll

EVENTS_PAGE = 100  # DescribeStackEvents returns at most this many a page
# the local AWS in instant mode ends a stack operation inside the call that starts it and says
# so in this header of that call's answer; AWS never sends it (its operations take seconds at
# least, and the answers to ExecuteChangeSet, DeleteStack and ContinueUpdateRollback carry
# nothing of the operation's progress)
ENDED_IN_CALL = "x-localaws-ended-in-call"


def _ended_in_call(answer: dict) -> bool:
    headers = answer.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    return headers.get(ENDED_IN_CALL) == "true"


def request_token() -> str:
    """A ClientRequestToken: a retried call with the same token is the same operation (AWS
    does not run it twice, nor answer InvalidChangeSetStatus), and the operation's events
    carry it."""
    return f"mirror-infra-{uuid.uuid4()}"


class CloudFormation:
    """A typed view of one region's CloudFormation client."""

    def __init__(self, client: Any) -> None:
        self._client = client

    # --- stacks ------------------------------------------------------------------------------

    def stack(self, name: str) -> StackInfo | None:
        """The stack (by name or id), or None when it does not exist (deleted ones do not)."""
        try:
            found = self._client.describe_stacks(StackName=name)["Stacks"]
        except ClientError as exc:
            if classify(exc) is AwsErrorKind.STACK_NOT_FOUND:
                return None
            raise
        if not found:
            return None
        s = found[0]
        status = StackStatus(s["StackStatus"])
        if status is StackStatus.DELETE_COMPLETE:
            return None
        return StackInfo(
            name=s["StackName"],
            stack_id=s["StackId"],
            status=status,
            reason=s.get("StackStatusReason", ""),
            outputs={o["OutputKey"]: o["OutputValue"] for o in s.get("Outputs", [])},
            parameters={
                p["ParameterKey"]: p.get("ParameterValue", "") for p in s.get("Parameters", [])
            },
            termination_protection=bool(s.get("EnableTerminationProtection")),
            last_updated=str(s.get("LastUpdatedTime") or s.get("CreationTime")),
            tags={t["Key"]: t["Value"] for t in s.get("Tags", [])},
            parent_id=s.get("ParentId", ""),
        )

    def resources(self, stack: str, path: str = "") -> list[StackResource]:
        """The stack's resources (one ListStackResources walk); `path` is the stack's own."""
        found = []
        for page in self._client.get_paginator("list_stack_resources").paginate(StackName=stack):
            for r in page["StackResourceSummaries"]:
                found.append(
                    StackResource(
                        ResourcePath(path, r["LogicalResourceId"]),
                        r["ResourceType"],
                        r.get("PhysicalResourceId", ""),
                        r["ResourceStatus"],
                    )
                )
        return found

    def tree(self, root: str) -> list[StackNode]:
        """The root and every nested stack below it, depth first; one listing per stack."""
        nodes: list[StackNode] = []

        def walk(stack: str, path: str) -> None:
            found = self.resources(stack, path)
            nodes.append(StackNode(path, stack, found))
            for r in found:
                if r.is_stack and r.physical_id:
                    walk(r.physical_id, r.path.nested_stack)

        walk(root, "")
        return nodes

    def nested_stacks(self, stack: str) -> dict[str, str]:
        """The stack's nested stacks: logical id -> stack id (one listing)."""
        return {r.logical_id: r.physical_id for r in self.resources(stack) if r.is_stack}

    def wait_change_set(
        self, change_set_id: str, backoff: Backoff, timeout: float
    ) -> ChangeSetStatus:
        """The change set's status once it is no longer being made; wait.Timeout after
        `timeout` seconds."""
        return poll(
            lambda: self.change_set_status(change_set_id),
            lambda status: status.settled,
            backoff,
            timeout,
        )

    def wait_settled(self, name: str, backoff: Backoff, timeout: float) -> StackInfo | None:
        """The stack once no operation runs on it (None when it is gone); wait.Timeout after
        `timeout` seconds."""
        return poll(
            lambda: self.stack(name),
            lambda s: s is None or not s.status.in_progress,
            backoff,
            timeout,
        )

    def template(self, stack: str) -> dict:
        """The stack's template as it was submitted."""
        body = self._client.get_template(StackName=stack, TemplateStage="Original")["TemplateBody"]
        return json.loads(body) if isinstance(body, str) else body

    def create(self, name: str, body: str, termination_protection: bool) -> str:
        """Create a stack; a failed create deletes what it made, Retain or not
        (RetainExceptOnCreate), so it can simply be retried."""
        answer = self._client.create_stack(
            StackName=name,
            TemplateBody=body,
            EnableTerminationProtection=termination_protection,
            RetainExceptOnCreate=True,
            ClientRequestToken=request_token(),
        )
        return answer["StackId"]

    def update(self, name: str, body: str) -> None:
        self._client.update_stack(StackName=name, TemplateBody=body)

    def delete(self, stack_id: str, token: str = "") -> bool:
        """Start deleting the stack; True when the deletion ended inside this call."""
        answer = self._client.delete_stack(
            StackName=stack_id, ClientRequestToken=token or request_token()
        )
        return _ended_in_call(answer)

    def cancel_update(self, stack_id: str) -> None:
        self._client.cancel_update_stack(StackName=stack_id)

    def continue_rollback(self, stack_id: str, skip: list[str], token: str = "") -> bool:
        """True when the rollback ended inside this call."""
        kwargs = {"ResourcesToSkip": skip} if skip else {}
        answer = self._client.continue_update_rollback(
            StackName=stack_id, ClientRequestToken=token or request_token(), **kwargs
        )
        return _ended_in_call(answer)

    def set_termination_protection(self, stack_id: str, enabled: bool) -> None:
        self._client.update_termination_protection(
            StackName=stack_id, EnableTerminationProtection=enabled
        )

    def put_policy(self, stack_id: str, body: str) -> None:
        self._client.set_stack_policy(StackName=stack_id, StackPolicyBody=body)

    def stack_policy(self, stack_id: str) -> str | None:
        return self._client.get_stack_policy(StackName=stack_id).get("StackPolicyBody")

    # --- events ------------------------------------------------------------------------------

    def events(self, stack_id: str) -> Iterator[RawEvent]:
        """The stack's events, newest first, page by page as the caller reads on."""
        kwargs = {"StackName": stack_id}
        while True:
            page = self._client.describe_stack_events(**kwargs)
            for raw in page.get("StackEvents", []):
                yield RawEvent(
                    event_id=raw["EventId"],
                    timestamp=raw["Timestamp"],
                    logical_id=raw["LogicalResourceId"],
                    resource_type=raw.get("ResourceType", ""),
                    status=status_of(ResourceStatus, raw.get("ResourceStatus", "")),
                    reason=raw.get("ResourceStatusReason", ""),
                    physical_id=raw.get("PhysicalResourceId", ""),
                    token=raw.get("ClientRequestToken", ""),
                )
            token = page.get("NextToken")
            if not token:
                return
            kwargs["NextToken"] = token

    def recent_events(self, stack_id: str) -> list[RawEvent]:
        """The first page of the stack's events (newest first): one call."""
        return list(islice(self.events(stack_id), EVENTS_PAGE))

    # --- change sets -------------------------------------------------------------------------

    def new_change_set(self, **request: Any) -> tuple[str, str]:
        """Create a change set; (change set id, stack id)."""
        answer = self._client.create_change_set(**request)
        return answer["Id"], answer.get("StackId", "")

    def change_set(self, change_set_id: str, values: bool = False) -> ChangeSet:
        """The change set with every row (all pages); `values`: with the property values
        (IncludePropertyValues), which drift-aware change sets show."""
        more = {"IncludePropertyValues": True} if values else {}
        described = self._client.describe_change_set(ChangeSetName=change_set_id, **more)
        rows = list(described.get("Changes", []))
        token = described.get("NextToken")
        while token:
            page = self._client.describe_change_set(
                ChangeSetName=change_set_id, NextToken=token, **more
            )
            rows += page.get("Changes", [])
            token = page.get("NextToken")
        return ChangeSet(
            change_set_id=described["ChangeSetId"],
            stack_id=described.get("StackId", ""),
            status=ChangeSetStatus(described["Status"]),
            execution=ExecutionStatus(described.get("ExecutionStatus", "UNAVAILABLE")),
            reason=described.get("StatusReason", ""),
            changes=[change_of(row["ResourceChange"]) for row in rows if row.get("ResourceChange")],
            express=described.get("DeploymentConfig", {}).get("Mode") == "EXPRESS",
        )

    def validation(self, change_set_id: str) -> list[ValidationFinding]:
        """The change set's pre-deployment validation results (validate-stack-deployments);
        none where the endpoint does not offer DescribeEvents."""
        found: list[ValidationFinding] = []
        kwargs = {"ChangeSetName": change_set_id}
        while True:
            try:
                page = self._client.describe_events(**kwargs)
            except ClientError as exc:
                if classify(exc) in (AwsErrorKind.INVALID, AwsErrorKind.OTHER):
                    return found  # an endpoint without pre-deployment validation
                raise
            for e in page.get("OperationEvents", []):
                if e.get("EventType") != "VALIDATION_ERROR":
                    continue
                found.append(
                    ValidationFinding(
                        name=e.get("ValidationName", ""),
                        status=e.get("ValidationStatus", ""),
                        mode=e.get("ValidationFailureMode", ""),
                        logical_id=e.get("LogicalResourceId", ""),
                        path=e.get("ValidationPath", ""),
                        reason=" ".join(str(e.get("ValidationStatusReason", "")).split()),
                    )
                )
            if not page.get("NextToken"):
                return found
            kwargs["NextToken"] = page["NextToken"]

    def change_set_status(self, change_set_id: str) -> ChangeSetStatus:
        return self.change_set_state(change_set_id)[0]

    def change_set_state(self, change_set_id: str) -> tuple[ChangeSetStatus, ExecutionStatus]:
        """Whether it is still being made, and whether it ran (one call, no rows)."""
        described = self._client.describe_change_set(ChangeSetName=change_set_id)
        return (
            ChangeSetStatus(described["Status"]),
            ExecutionStatus(described.get("ExecutionStatus", "UNAVAILABLE")),
        )

    def find_change_set(self, stack: str, name: str) -> tuple[str, str] | None:
        """(change set id, stack id) of the change set of that name on the stack; None when
        there is none."""
        try:
            described = self._client.describe_change_set(ChangeSetName=name, StackName=stack)
        except ClientError as exc:
            if classify(exc) in (AwsErrorKind.CHANGE_SET_NOT_FOUND, AwsErrorKind.STACK_NOT_FOUND):
                return None
            raise
        return described["ChangeSetId"], described.get("StackId", "")

    def execute(self, change_set_id: str, token: str = "") -> bool:
        """Run the change set; True when its operation ended inside this call.
        RetainExceptOnCreate: resources this operation creates in the stack are deleted if it
        rolls back, even with DeletionPolicy Retain (API_ExecuteChangeSet.html). No page says
        the flag reaches the nested stacks the operation creates, so a first create does not
        rely on it: its copy of the templates carries the template attribute
        `DeletionPolicy: RetainExceptOnCreate` on each resource (deploy/first_create.py)."""
        answer = self._client.execute_change_set(
            ChangeSetName=change_set_id,
            ClientRequestToken=token or request_token(),
            RetainExceptOnCreate=True,
        )
        return _ended_in_call(answer)

    def discard_change_set(self, change_set_id: str) -> None:
        """Delete it; one already gone is fine. AWS refuses while it is still being made
        (InvalidChangeSetStatus, API_DeleteChangeSet): deploy/change_sets.py waits for that."""
        try:
            self._client.delete_change_set(ChangeSetName=change_set_id)
        except ClientError as exc:
            if classify(exc) is not AwsErrorKind.CHANGE_SET_NOT_FOUND:
                raise

    # --- drift -------------------------------------------------------------------------------

    def detect_drift(self, stack_id: str) -> str:
        return self._client.detect_stack_drift(StackName=stack_id)["StackDriftDetectionId"]

    def drift_detection(self, detection_id: str) -> DriftDetection:
        answer = self._client.describe_stack_drift_detection_status(
            StackDriftDetectionId=detection_id
        )
        return DriftDetection(
            DetectionStatus(answer["DetectionStatus"]),
            answer.get("StackDriftStatus", ""),
            answer.get("DetectionStatusReason", ""),
        )

    def resource_drifts(
        self, stack_id: str, statuses: tuple[ResourceDriftStatus, ...]
    ) -> list[ResourceDrift]:
        """The stack's resources in those drift statuses (botocore has no paginator here)."""
        found: list[ResourceDrift] = []
        token: dict[str, str] = {}
        while True:
            page = self._client.describe_stack_resource_drifts(
                StackName=stack_id,
                StackResourceDriftStatusFilters=[s.value for s in statuses],
                **token,
            )
            found += [drift_of(d) for d in page["StackResourceDrifts"]]
            if not page.get("NextToken"):
                return found
            token = {"NextToken": page["NextToken"]}
