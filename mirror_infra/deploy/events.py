"""Streaming the events of the root stack and every nested stack while an operation runs:
one DescribeStackEvents call per stack per poll, reading only events not seen before."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mirror_infra.aws.errors import is_propagated_failure
from mirror_infra.aws.status import is_failure


@dataclass(frozen=True)
class Event:
    stack: str  # "" for the root, else the nested stack's path
    event_id: str
    timestamp: datetime
    logical_id: str
    resource_type: str
    status: str
    reason: str
    physical_id: str

    @property
    def qualified_id(self) -> str:
        return f"{self.stack}.{self.logical_id}" if self.stack else self.logical_id


class EventStream:
    """New events since `since`, across the root and the nested stacks it discovers."""

    def __init__(self, cfn, root_stack_id: str, since: datetime | None) -> None:
        self._cfn = cfn
        self._since = since
        self._stacks: dict[str, str] = {root_stack_id: ""}  # stack id -> path
        self._seen: dict[str, set[str]] = {root_stack_id: set()}
        self.history: list[Event] = []

    def mark_seen(self, stack_id: str, event_ids: list[str]) -> None:
        self._seen.setdefault(stack_id, set()).update(event_ids)

    def poll(self) -> list[Event]:
        """New events of every known stack, and of stacks discovered on the way, by time."""
        new: list[Event] = []
        polled: set[str] = set()
        while pending := [s for s in self._stacks if s not in polled]:
            for stack_id in pending:
                polled.add(stack_id)
                new += self._poll_stack(stack_id, self._stacks[stack_id])
        new.sort(key=lambda e: e.timestamp)
        self.history += new
        return new

    def _poll_stack(self, stack_id: str, path: str) -> list[Event]:
        seen = self._seen[stack_id]
        fresh: list[Event] = []
        kwargs = {"StackName": stack_id}
        while True:
            page = self._cfn.describe_stack_events(**kwargs)
            stop = False
            for raw in page.get("StackEvents", []):  # newest first
                if raw["EventId"] in seen or (self._since and raw["Timestamp"] < self._since):
                    stop = True
                    break
                stack, logical_id = path, raw["LogicalResourceId"]
                if path and raw.get("PhysicalResourceId") == stack_id:
                    # a nested stack's own event names it by its generated stack name; show it
                    # as its parent does ("Storage", not "...-Storage-HP6WOW3Q3F6Z")
                    stack, _, logical_id = path.rpartition(".")
                event = Event(
                    stack=stack,
                    event_id=raw["EventId"],
                    timestamp=raw["Timestamp"],
                    logical_id=logical_id,
                    resource_type=raw.get("ResourceType", ""),
                    status=raw.get("ResourceStatus", ""),
                    reason=raw.get("ResourceStatusReason", ""),
                    physical_id=raw.get("PhysicalResourceId", ""),
                )
                fresh.append(event)
            token = page.get("NextToken")
            if stop or not token:
                break
            kwargs["NextToken"] = token
        for event in fresh:
            seen.add(event.event_id)
            self._discover(event)
        return fresh

    def _discover(self, event: Event) -> None:
        """A nested stack's own events come from its id, which its parent's events carry."""
        if (
            event.resource_type == "AWS::CloudFormation::Stack"
            and event.physical_id.startswith("arn:")
            and event.physical_id not in self._stacks  # the root's and nested stacks' own events
        ):
            path = f"{event.stack}.{event.logical_id}" if event.stack else event.logical_id
            self._stacks[event.physical_id] = path
            self._seen[event.physical_id] = set()

    def root_cause(self) -> Event | None:
        """The first failure that is not just an echo of another one, from any stack."""
        failures = [e for e in self.history if is_failure(e.status)]
        for event in failures:
            if not is_propagated_failure(event.reason):
                return event
        return failures[0] if failures else None
