"""Streaming the events of the root stack and every nested stack while an operation runs:
at most one DescribeStackEvents call per stack per poll, reading only events not seen before;
the root every poll, nested stacks in turn when the caller limits them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mirror_infra.aws.cfn_answers import NESTED_STACK
from mirror_infra.aws.cloudformation import CloudFormation
from mirror_infra.aws.errors import is_propagated_failure
from mirror_infra.aws.path import ResourcePath
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
    def path(self) -> ResourcePath:
        return ResourcePath(self.stack, self.logical_id)

    @property
    def qualified_id(self) -> str:
        return str(self.path)


class EventStream:
    """New events since `since`, across the root and the nested stacks it discovers."""

    def __init__(
        self, cfn: CloudFormation, root_stack_id: str, since: datetime | None, token: str = ""
    ) -> None:
        self._cfn = cfn
        self._since = since
        self._token = token  # events of another operation (another token) are not ours
        self._settled: set[str] = set()  # nested stacks read for the last time
        self._last_read: set[str] = set()  # nested stacks that have ended: read once more
        self.calls = 0  # DescribeStackEvents calls made
        self._unreported: list[Event] = []  # read, then a later call of the same poll failed
        self._root = root_stack_id
        self._reads: dict[str, int] = {}  # stack id -> the poll that last read it (turns)
        self._polls = 0
        self._stacks: dict[str, str] = {root_stack_id: ""}  # stack id -> path
        self._seen: dict[str, set[str]] = {root_stack_id: set()}
        self.history: list[Event] = []
        # a nested stack's end as its parent reported it, held back until the nested stack's
        # own events have been read (so that no one is told it ended before what it did);
        # and the root's own end while any is held
        self._held: dict[str, list[Event]] = {}
        self._held_root: list[Event] = []

    def mark_seen(self, stack_id: str, event_ids: list[str]) -> None:
        self._seen.setdefault(stack_id, set()).update(event_ids)

    def poll(self, limit: int | None = None, root: bool = True) -> list[Event]:
        """New events of the root and of every nested stack still worth reading (and of those
        discovered on the way), by time; a nested stack's end, reported by its parent before
        the nested stack's own last events were read, comes with those events in the poll that
        reads them (and the root's own end after every such one);
        with `limit`, of at most that many nested stacks, the ones read longest ago first;
        without `root`, of the nested stacks only (the root was just read)."""
        new, self._unreported = self._unreported, []
        polled: set[str] = set() if root else {self._root}
        order: dict[str, int] = {}  # stack id -> when it was read in this poll
        source: dict[str, str] = {}  # event id -> the stack it was read from
        later: set[str] = set()  # nested stacks beyond `limit`: read in a later poll
        self._polls += 1
        try:
            while pending := [s for s in self._stacks if s not in polled | later | self._settled]:
                # the root first, then the nested stacks read longest ago
                pending.sort(key=lambda s: (s != self._root, self._reads.get(s, 0)))
                for stack_id in pending:
                    nested_read = len(polled - {self._root})
                    if stack_id != self._root and limit is not None and nested_read >= limit:
                        later.add(stack_id)
                        continue
                    polled.add(stack_id)
                    order[stack_id] = len(order)
                    self._reads[stack_id] = self._polls
                    fresh = self._poll_stack(stack_id, self._stacks[stack_id])
                    source.update((e.event_id, stack_id) for e in fresh)
                    new += fresh
        except Exception:
            # a call failed (throttling) after others had read events: keep them for next time
            self._unreported = new
            raise
        # a nested stack that has ended is read once more (its last events), then no longer,
        # until its parent reports it in progress again (a rollback); not once more when its
        # last events are in already: its own final event was read, or it was read after the
        # read of its parent that reported its end
        self._settled |= self._last_read & polled
        self._last_read -= polled
        shown = [e for stack in polled for e in self._held.pop(stack, [])]
        for event in sorted(new, key=lambda e: e.timestamp):
            nested = event.physical_id
            if event.resource_type != NESTED_STACK or nested not in self._stacks:
                shown.append(event)
                continue
            if nested == self._root:
                ended = not event.status.endswith("_IN_PROGRESS")
                (self._held_root if ended else shown).append(event)
                continue
            if event.status.endswith("_IN_PROGRESS"):
                self._settled.discard(nested)
                self._last_read.discard(nested)
                shown += self._held.pop(nested, [])
                shown.append(event)
            elif nested not in self._settled:
                parent = source.get(event.event_id)
                if parent == nested or order.get(nested, -1) > order.get(parent or "", 1 << 30):
                    self._settled.add(nested)
                    shown.append(event)
                else:
                    self._last_read.add(nested)
                    self._held.setdefault(nested, []).append(event)
            else:
                shown.append(event)
        if not self._held:
            shown += self._held_root
            self._held_root = []
        new.sort(key=lambda e: e.timestamp)
        self.history += new
        return sorted(shown, key=lambda e: e.timestamp)

    def root_ended(self) -> Event | None:
        """The root stack's own newest event of this operation when it is a final status."""
        own = [e for e in self.history if e.stack == "" and e.physical_id == self._root]
        return own[-1] if own and not own[-1].status.endswith("_IN_PROGRESS") else None

    def _poll_stack(self, stack_id: str, path: str) -> list[Event]:
        seen = self._seen[stack_id]
        fresh: list[Event] = []
        self.calls += 1
        for raw in self._cfn.events(stack_id):  # newest first, page by page
            if raw.event_id in seen or (self._since and raw.timestamp < self._since):
                break
            # only the root's events are known to carry the operation's token (API_StackEvent);
            # a nested stack's own operation may carry another
            if stack_id == self._root and self._token and raw.token and raw.token != self._token:
                continue
            stack, logical_id = path, raw.logical_id
            if path and raw.physical_id == stack_id:
                # a nested stack's own event names it by its generated stack name; show it as
                # its parent does ("Storage", not "...-Storage-HP6WOW3Q3F6Z")
                stack, _, logical_id = path.rpartition(".")
            fresh.append(
                Event(
                    stack=stack,
                    event_id=raw.event_id,
                    timestamp=raw.timestamp,
                    logical_id=logical_id,
                    resource_type=raw.resource_type,
                    status=raw.status,
                    reason=raw.reason,
                    physical_id=raw.physical_id,
                )
            )
        for event in fresh:
            seen.add(event.event_id)
            self._discover(event)
        return fresh

    def _discover(self, event: Event) -> None:
        """A nested stack's own events come from its id, which its parent's events carry."""
        if (
            event.resource_type == NESTED_STACK
            and event.physical_id.startswith("arn:")
            and event.physical_id not in self._stacks  # the root's and nested stacks' own events
        ):
            self._stacks[event.physical_id] = event.path.nested_stack
            self._seen[event.physical_id] = set()

    def root_cause(self) -> Event | None:
        """The first failure that is not just an echo of another one, from any stack."""
        failures = [e for e in self.history if is_failure(e.status)]
        for event in failures:
            if not is_propagated_failure(event.reason):
                return event
        return failures[0] if failures else None
