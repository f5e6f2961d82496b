"""The live view of a running stack operation on a terminal: one line per stack (root and
nested) with a progress bar over its resources, its elapsed time and what is in progress right
now (and since when); failures shown in place with their reason; when the operation settles,
a summary (created/updated/deleted, duration, the slowest resources). Off a terminal the
event lines of `render.EventPrinter` are used instead."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from rich.console import Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from mirror_infra import ui
from mirror_infra.aws.cfn_answers import NESTED_STACK
from mirror_infra.aws.status import is_complete, is_failure


@dataclass
class _Stack:
    started: float
    ended: float | None = None
    total: int = 0
    done: int = 0
    running: dict[str, float] = field(default_factory=dict)  # resource -> since
    failures: list[str] = field(default_factory=list)
    status: str = ""


class LiveView:
    """A sink for stack events (like EventPrinter) that draws the live view."""

    def __init__(self, totals: dict[str, int] | None = None) -> None:
        self.started = time.monotonic()
        self.totals = dict(totals or {})  # stack path ("" root) -> resources the plan expects
        self.stacks: dict[str, _Stack] = {}
        self.begun: dict[str, object] = {}  # resource -> its first IN_PROGRESS (AWS's clock)
        self.took: dict[str, float] = {}  # resource -> seconds to its end
        self.counts = {"created": 0, "updated": 0, "deleted": 0, "failed": 0}
        self.root_name = "root"  # the root stack's name, from its own first event
        self.live = Live(
            self, console=ui.err, refresh_per_second=4, transient=True, redirect_stderr=False
        )
        self.live.start()

    def _stack(self, path: str) -> _Stack:
        if path not in self.stacks:
            self.stacks[path] = _Stack(time.monotonic(), total=self.totals.get(path, 0))
        return self.stacks[path]

    def __call__(self, event) -> None:
        now = time.monotonic()
        status = str(event.status)
        if event.resource_type == NESTED_STACK:
            # a stack's own status (the root's, or a nested stack's from it or its parent)
            root = _is_root(event)
            if root:
                self.root_name = event.logical_id
            own = self._stack("" if root else event.qualified_id)
            own.status = status
            if not status.endswith("_IN_PROGRESS"):
                own.ended = own.ended or now
            if is_failure(status) and event.reason:
                own.failures.append(f"{status}: {event.reason}")
            if not root:  # a nested stack is also one of its parent's resources
                self._progress(self._stack(event.stack), event.qualified_id, status, now)
            self.live.refresh()
            return
        line = self._stack(event.stack)
        name = event.qualified_id
        self._progress(line, name, status, now)
        if status.endswith("_IN_PROGRESS"):
            self.begun.setdefault(name, event.timestamp)
        else:
            if is_complete(status):
                kind = {"CREATE": "created", "UPDATE": "updated", "DELETE": "deleted"}
                key = kind.get(status.split("_")[0])
                if key:
                    self.counts[key] += 1
                if name in self.begun:  # measured on AWS's clock, not on when we polled
                    self.took[name] = (event.timestamp - self.begun[name]).total_seconds()
            if is_failure(status):
                self.counts["failed"] += 1
                line.failures.append(f"{event.logical_id} {status}: {event.reason}")
        self.live.refresh()

    @staticmethod
    def _progress(line: _Stack, name: str, status: str, now: float) -> None:
        if status.endswith("_IN_PROGRESS"):
            line.running.setdefault(name, now)
        else:
            line.running.pop(name, None)
            if is_complete(status):
                line.done += 1

    def __rich__(self) -> Group:
        now = time.monotonic()
        table = Table.grid(padding=(0, 1))
        for _ in range(4):
            table.add_column()
        rows: list = []
        for path in sorted(self.stacks, key=lambda p: (p != "", p)):
            s = self.stacks[path]
            total = max(s.total, s.done + len(s.running), 1)
            elapsed = (s.ended or now) - s.started
            running = ", ".join(
                f"{name.rpartition('.')[2]} ({now - since:.0f}s)"
                for name, since in s.running.items()
            )
            table.add_row(
                Text(path or self.root_name, style="bold"),
                ProgressBar(total=total, completed=s.done, width=24),
                Text(f"{s.done}/{total} {elapsed:5.1f}s"),
                Text(f"in progress: {running}" if running else s.status),
            )
            for failure in s.failures:
                table.add_row(
                    Text(""), Text("failed", style="red"), Text(""), Text(failure, style="red")
                )
        rows.append(table)
        return Group(*rows)

    def close(self) -> None:
        """Collapse the view into its summary."""
        self.live.stop()
        duration = time.monotonic() - self.started
        slowest = sorted(self.took.items(), key=lambda kv: kv[1], reverse=True)[:3]
        c = self.counts
        ui.err.print(
            f"{c['created']} created, {c['updated']} updated, {c['deleted']} deleted"
            + (f", {c['failed']} failed" if c["failed"] else "")
            + f" in {duration:.1f}s"
            + (
                "; slowest: " + ", ".join(f"{name} {secs:.1f}s" for name, secs in slowest)
                if slowest
                else ""
            ),
            markup=False,
        )
        for path, s in self.stacks.items():
            for failure in s.failures:
                ui.err.print(f"failed in {path or self.root_name}: {failure}", markup=False)


def _is_root(event) -> bool:
    """Whether a stack event is the root stack's own: a stack's own events name it by its stack
    name, which its ARN carries (arn:...:stack/NAME/ID); a nested stack's events as the
    stream gives them carry the logical id their parent gives them, never their stack name."""
    name = event.physical_id.partition(":stack/")[2].partition("/")[0]
    return event.stack == "" and bool(name) and name == event.logical_id
