"""Following a stack operation: start one (a plan's change set, a delete, a rollback's
continuation), stream its events within the tool's call budget, cancel it, and report how it
ended. Finishing the environment afterwards is `finishing.py`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import ClientError

from mirror_infra.aws.cfn_answers import StackInfo
from mirror_infra.aws.cloudformation import request_token
from mirror_infra.aws.errors import AwsErrorKind, classify
from mirror_infra.aws.status import StackStatus
from mirror_infra.aws.wait import Timeout
from mirror_infra.deploy import protection
from mirror_infra.deploy.context import Deployment
from mirror_infra.deploy.events import Event, EventStream
from mirror_infra.deploy.finishing import restore_stack_policies
from mirror_infra.deploy.plan import Plan, refuse_destructive
from mirror_infra.deploy.risk import Risk
from mirror_infra.errors import DeployError, StalePlanError

# the tool's own call budget while following one operation (AWS publishes no per-call limit),
# on the local AWS too: its paced mode stands for AWS
CALLS_PER_SECOND = 1.0
THROTTLED_PAUSE = 5.0  # after botocore's own retries ran out
# a nested stack's events are read every this many polls (the root's every poll): the root is
# then read 1, 1 and 2 seconds apart, so the end is seen 0.75 s after it on average (every
# other poll: 0.83 s); a nested stack's own progress shows a few seconds later
NESTED_EVERY = 3


@dataclass(frozen=True)
class Finished:
    status: StackStatus
    reason: str
    root_cause: Event | None
    events: int

    @property
    def ok(self) -> bool:
        return self.status.succeeded


class Execution:
    """One stack operation being followed through its events."""

    def __init__(self, dep: Deployment, stack_id: str) -> None:
        self.dep = dep
        self.stack_id = stack_id
        self.lifted: set[str] = set()  # stack-policy protections lifted for this operation
        self.token = request_token()  # what this operation's call and events carry
        # the newest existing event marks "now" on the server's clock, so old events of nested
        # stacks discovered later are skipped without trusting this machine's clock
        first = dep.cfn.recent_events(stack_id)
        self.stream = EventStream(
            dep.cfn, stack_id, first[0].timestamp if first else None, self.token
        )
        self.stream.mark_seen(stack_id, [e.event_id for e in first])
        self.ended_in_call = False

    def begin(self, start: Callable[[str], bool]) -> None:
        """Start the operation by `start(token)`, which says whether it ended inside that call
        (only the local AWS's instant mode does so)."""
        self.ended_in_call = start(self.token)

    def follow(self, on_event: Callable[[Event], None], timeout: float = 3600) -> Finished:
        """Stream events until the stack settles, within CALLS_PER_SECOND on average (AWS
        publishes no per-call limit; this is the tool's own budget), noticing the end 0.75 s
        after it on average: every poll reads the root's events, where its final status
        appears (that event's status is the answer: no DescribeStacks after it), and every
        third poll also one nested stack's, in turn; a poll's pause is a second per call it
        made (two after a poll that read a nested stack, three when the every-tenth status
        check falls on it too). Throttling never abandons the operation: it is waited out,
        slower, within the same deadline."""
        deadline = time.monotonic() + timeout
        polls, state = 0, "in progress"
        if not self.ended_in_call:
            # the first look is paid for before it is made, as every later one is: no
            # operation on AWS ends within a second of its start, and so the calls never run
            # ahead of the budget by more than the rest of one poll (a timeout shorter than
            # that still gets its one look)
            time.sleep(min(1 / CALLS_PER_SECOND, max(0.0, deadline - time.monotonic())))
        while True:
            calls_before = self.stream.calls
            info, checked = None, False
            try:
                new = self.stream.poll(limit=int(polls % NESTED_EVERY == NESTED_EVERY - 1))
                for event in new:
                    on_event(event)
                ended = self.stream.root_ended()
                # a missed final event must not leave us polling forever: check every tenth
                if ended is None and polls % 10 == 9:
                    info, checked = self.dep.cfn.stack(self.stack_id), True
                if ended is not None:
                    return self._finished(on_event, StackStatus(ended.status), ended.reason)
            except ClientError as exc:
                if classify(exc) is not AwsErrorKind.THROTTLED:
                    raise
                self._wait_or_give_up(deadline, timeout, "throttled by AWS", THROTTLED_PAUSE)
                continue
            polls += 1
            if checked:
                status = info.status if info else StackStatus.DELETE_COMPLETE
                state = str(status)
                # AWS starts an operation asynchronously: until its first event the stack can
                # still show the status from before (REVIEW_IN_PROGRESS, UPDATE_COMPLETE)
                if not status.in_progress and self.stream.history:
                    return self._finished(on_event, status, info.reason if info else "")
            calls = self.stream.calls - calls_before + checked
            self._wait_or_give_up(deadline, timeout, f"still {state}", calls / CALLS_PER_SECOND)

    def _finished(
        self, on_event: Callable[[Event], None], status: StackStatus, reason: str
    ) -> Finished:
        """The operation ended: the last events of the nested stacks not read since they ended
        (the root's were just read), which hold a failure's root cause."""
        for event in self.stream.poll(root=False):
            on_event(event)
        return Finished(status, reason, self.stream.root_cause(), len(self.stream.history))

    def _wait_or_give_up(self, deadline: float, timeout: float, state: str, pause: float) -> None:
        if time.monotonic() + pause > deadline:
            raise DeployError(
                f"{self.dep.stack_name} {state} after {timeout:.0f}s; it goes on in AWS — run "
                f"'{self.dep.tool_command('status')}' to follow it"
            )
        time.sleep(pause)

    def cancel(self) -> str:
        """Cancel an update in progress (it rolls back); a create cannot be cancelled. The
        update may end at any moment, so no status is read first: an operation that had
        already finished (AWS answers that CancelUpdateStack cannot be called from the
        stack's status) is an outcome, said as such, not an error."""
        try:
            self.dep.cfn.cancel_update(self.stack_id)
        except ClientError as exc:
            if classify(exc) is not AwsErrorKind.NOT_CANCELLABLE:
                raise
            info = self.dep.cfn.stack(self.stack_id)
            status = info.status if info else "gone"
            return f"not cancelled: the stack is {status} (only an update in progress can be)"
        return "cancel requested: the update rolls back"


def start(dep: Deployment, plan: Plan, allowed: set[str]) -> Execution:
    """Run the plan's change set, refusing destructive changes the user has not named."""
    if plan.change_set_id is None:
        raise DeployError("the plan has no change set to execute")
    refuse_destructive(plan, allowed)
    cfn = dep.cfn
    info = cfn.stack(dep.stack_name)
    if info is None:
        raise DeployError(f"{dep.stack_name} vanished since the plan; run 'plan' again")
    # a stack policy denies Update:Replace and Update:Delete: lift it for exactly the named
    # replacements and removals (each one named: refused above otherwise)
    lifted = {
        c.qualified_id
        for c in plan.destructive()
        if c.risk in (Risk.REPLACES_DATA, Risk.DELETES_DATA)
    }
    lifting = bool(lifted) and dep.cfg.data_safety.stack_policy and not plan.create
    try:
        if lifting:
            # a change set cannot override a stack policy: lift it for exactly the named ones
            protection.apply_stack_policies(cfn, info.stack_id, allowed=lifted)
        execution = Execution(dep, info.stack_id)
        execution.begin(lambda token: cfn.execute(plan.change_set_id, token))
        if dep.ledger is not None:  # AWS runs it now: nothing left to delete
            dep.ledger.executed(plan.change_set_id)
        execution.lifted = lifted if lifting else set()
    except BaseException as exc:
        if lifting:  # nothing runs: put the full policies back before anything else
            restore_stack_policies(dep)
        if isinstance(exc, ClientError) and (
            classify(exc) is AwsErrorKind.CHANGE_SET_NOT_EXECUTABLE
        ):
            raise StalePlanError(
                f"another apply got there first: {dep.stack_name} changed after this plan was "
                "made, so its change set can no longer run (nothing of it was applied); run "
                "'plan' again"
            ) from None
        raise
    return execution


def delete_failed_create(dep: Deployment, on_event: Callable[[Event], None]) -> None:
    """Remove a stack left ROLLBACK_COMPLETE by a failed first create (it holds nothing)."""
    info = dep.cfn.stack(dep.stack_name)
    if info is None or info.status is not StackStatus.ROLLBACK_COMPLETE:
        return
    execution = Execution(dep, info.stack_id)
    execution.begin(lambda token: dep.cfn.delete(info.stack_id, token))
    finished = execution.follow(on_event)
    if finished.status is not StackStatus.DELETE_COMPLETE:
        raise DeployError(
            f"could not remove the failed stack {dep.stack_name}: {finished.status} "
            f"{finished.reason}"
        )


def wait_if_busy(dep: Deployment, timeout: float = 3600) -> StackInfo | None:
    """Wait for an operation someone else started, rather than failing on it."""
    try:
        return dep.cfn.wait_settled(dep.stack_name, dep.backoff, timeout)
    except Timeout:
        raise DeployError(
            f"{dep.stack_name} is still busy after {timeout:.0f}s; try again later"
        ) from None


def continue_rollback(dep: Deployment, skip: list[str]) -> Execution:
    info = dep.cfn.stack(dep.stack_name)
    if info is None or info.status is not StackStatus.UPDATE_ROLLBACK_FAILED:
        status = info.status if info else "missing"
        raise DeployError(f"{dep.stack_name} is {status}, not UPDATE_ROLLBACK_FAILED")
    execution = Execution(dep, info.stack_id)
    execution.begin(lambda token: dep.cfn.continue_rollback(info.stack_id, skip, token))
    return execution
