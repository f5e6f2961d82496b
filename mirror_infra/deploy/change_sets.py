"""The life of every change set the tool makes: one typed request, one create-and-wait path
(FAILED, "no changes" and the timeout handled here once), and a ledger that sees each change
set executed, kept (a saved plan) or deleted, on every path out of a flow — an error, a
refusal, Ctrl-C (KeyboardInterrupt) or SIGTERM (errors.Terminated) included.

AWS refuses DeleteChangeSet while a change set is still CREATE_IN_PROGRESS
(InvalidChangeSetStatus,
https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DeleteChangeSet.html), so
a deletion waits until the change set has been created. Deleting a root change set made with
IncludeNestedStacks deletes its nested change sets too (the same page). A CREATE change set
leaves its stack REVIEW_IN_PROGRESS; that stack is deleted with it, found by the id this very
change set made, never by name.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from mirror_infra.aws.cfn_answers import ChangeSet, ValidationFinding
from mirror_infra.aws.errors import AwsErrorKind, classify, is_no_changes_reason
from mirror_infra.aws.status import ChangeSetStatus, ExecutionStatus, StackStatus
from mirror_infra.aws.wait import Timeout
from mirror_infra.deploy.context import Deployment
from mirror_infra.errors import DeployError

# how long a change set may take to be made, and to become deletable: the one place
TIMEOUT = 600.0
CAPABILITIES = ("CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND")


class ChangeSetType(StrEnum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    IMPORT = "IMPORT"


@dataclass(frozen=True)
class Request:
    """One CreateChangeSet request (API_CreateChangeSet), typed."""

    stack: str  # the stack's name, or a nested stack's id
    name: str
    kind: ChangeSetType
    description: str
    template_body: str = ""
    template_url: str = ""
    use_previous_template: bool = False
    parameters: dict[str, str] = field(default_factory=dict)
    previous_parameters: tuple[str, ...] = ()  # kept with UsePreviousValue
    capabilities: tuple[str, ...] = CAPABILITIES
    tags: dict[str, str] = field(default_factory=dict)
    include_nested: bool = False
    deployment_mode: str = ""  # REVERT_DRIFT for a drift-aware change set
    deployment_config: dict[str, Any] | None = None  # express mode
    to_import: tuple[dict[str, Any], ...] = ()  # ResourcesToImport

    def api(self) -> dict[str, Any]:
        """The request as CreateChangeSet's parameters."""
        call: dict[str, Any] = {
            "StackName": self.stack,
            "ChangeSetName": self.name,
            "ChangeSetType": self.kind.value,
            "Description": self.description,
            "Capabilities": list(self.capabilities),
        }
        if self.use_previous_template:
            call["UsePreviousTemplate"] = True
        elif self.template_url:
            call["TemplateURL"] = self.template_url
        else:
            call["TemplateBody"] = self.template_body
        parameters = [{"ParameterKey": k, "ParameterValue": v} for k, v in self.parameters.items()]
        parameters += [
            {"ParameterKey": k, "UsePreviousValue": True} for k in self.previous_parameters
        ]
        call["Parameters"] = parameters
        if self.tags:
            call["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(self.tags.items())]
        if self.include_nested:
            call["IncludeNestedStacks"] = True
        if self.deployment_mode:
            call["DeploymentMode"] = self.deployment_mode
        if self.deployment_config is not None:
            call["DeploymentConfig"] = self.deployment_config
        if self.to_import:
            call["ResourcesToImport"] = list(self.to_import)
        return call


def stamped(prefix: str) -> str:
    """A change set name: the prefix and the time it is made."""
    return f"{prefix}-{time.strftime('%Y%m%d-%H%M%S')}"


class Outcome(StrEnum):
    READY = "ready"  # CREATE_COMPLETE: its rows can be read and it can be executed
    EMPTY = "empty"  # nothing to change (AWS's "no changes"); nothing is left of it
    FAILED = "failed"  # AWS could not make it; the ledger deletes it


@dataclass
class Made:
    outcome: Outcome
    change_set_id: str = ""
    stack_id: str = ""
    described: ChangeSet | None = None

    @property
    def reason(self) -> str:
        return self.described.reason if self.described else ""


def create(
    dep: Deployment,
    request: Request,
    what: str = "",
    values: bool = False,
    makes_stack: bool = False,
) -> Made:
    """Make the change set, wait until AWS has made it, and read it back (`values`: with
    property values). It is in the ledger of the flow that runs (`owned`) from the moment it
    is asked for; an empty one is deleted here. `makes_stack`: a CREATE on a stack that does
    not exist, whose REVIEW_IN_PROGRESS stack goes with it. `what` names it in a timeout's
    message."""
    ledger = _ledger(dep)
    entry = ledger.expect(request, makes_stack and request.kind is ChangeSetType.CREATE)
    try:
        change_set_id, stack_id = dep.cfn.new_change_set(**request.api())
    except ClientError as exc:
        ledger.forget(entry)
        if classify(exc) in (AwsErrorKind.NO_UPDATES, AwsErrorKind.NO_CHANGES):
            return Made(Outcome.EMPTY)
        raise
    entry.change_set_id, entry.stack_id = change_set_id, stack_id
    try:
        dep.cfn.wait_change_set(change_set_id, dep.backoff, TIMEOUT)
    except Timeout:
        raise DeployError(
            f"{what or 'change set ' + request.name} was not ready within {TIMEOUT:.0f}s; see "
            "the CloudFormation console"
        ) from None
    described = dep.cfn.change_set(change_set_id, values=values)
    made = Made(Outcome.READY, change_set_id, stack_id, described)
    if described.status is ChangeSetStatus.FAILED:
        made.outcome = Outcome.FAILED
        if is_no_changes_reason(described.reason):
            ledger.discard(change_set_id)
            made.outcome = Outcome.EMPTY
    return made


def findings(dep: Deployment, made: Made) -> list[ValidationFinding]:
    return dep.cfn.validation(made.change_set_id)


@dataclass
class _Entry:
    request: Request
    makes_stack: bool  # a CREATE of a stack that did not exist: its stack goes with it
    change_set_id: str = ""
    stack_id: str = ""


class Ledger:
    """The change sets made under one flow that are neither executed nor kept yet."""

    def __init__(self, dep: Deployment, say: Callable[[str], None]) -> None:
        self.dep = dep
        self.say = say
        self.pending: list[_Entry] = []

    def expect(self, request: Request, makes_stack: bool) -> _Entry:
        entry = _Entry(request, makes_stack)
        self.pending.append(entry)
        return entry

    def forget(self, entry: _Entry) -> None:
        self.pending = [e for e in self.pending if e is not entry]

    def _settle(self, change_set_id: str) -> None:
        self.pending = [e for e in self.pending if e.change_set_id != change_set_id]

    def executed(self, change_set_id: str) -> None:
        """ExecuteChangeSet accepted it: AWS owns it now."""
        self._settle(change_set_id)

    def keep(self, *change_set_ids: str) -> None:
        """Saved with a plan (--out): the saved file owns it now, and the stack it made."""
        for change_set_id in change_set_ids:
            self._settle(change_set_id)

    def discard(self, change_set_id: str) -> None:
        """Delete one change set now (and the empty stack a CREATE change set made)."""
        for entry in [e for e in self.pending if e.change_set_id == change_set_id]:
            self._delete(entry)
            self.forget(entry)

    def close(self) -> list[str]:
        """Delete every change set still pending; what could not be deleted, as advice."""
        left = []
        while self.pending:
            entry = self.pending.pop()
            try:
                self._delete(entry)
            except (ClientError, BotoCoreError, DeployError) as exc:
                left.append(_left_behind(self.dep, entry, exc))
        return left

    def _delete(self, entry: _Entry) -> None:
        cfn = self.dep.cfn
        if not entry.change_set_id:  # asked for, but its answer never came (Ctrl-C)
            found = _found(self.dep, entry.request)
            entry.change_set_id, entry.stack_id = found or ("", "")
        change_set_id = entry.change_set_id
        if change_set_id:
            deadline = time.monotonic() + TIMEOUT
            for delay in self.dep.backoff.delays():
                if not _still_being_made_or_refused(self.dep, change_set_id):
                    break
                if time.monotonic() + delay > deadline:
                    raise DeployError(f"still CREATE_IN_PROGRESS after {TIMEOUT:.0f}s")
                time.sleep(delay)
        if entry.makes_stack and entry.stack_id:
            info = cfn.stack(entry.stack_id)
            if info is not None and info.status is StackStatus.REVIEW_IN_PROGRESS:
                cfn.delete(entry.stack_id)


def _still_being_made_or_refused(dep: Deployment, change_set_id: str) -> bool:
    """Try to delete the change set: False once it is gone (deleted now, executed or never
    made), True while AWS refuses because it is still being made."""
    try:
        state = dep.cfn.change_set_state(change_set_id)
    except ClientError as exc:
        if classify(exc) is AwsErrorKind.CHANGE_SET_NOT_FOUND:
            return False
        state = None  # unreadable: try the deletion, which says whether it may go
    if state is not None:
        status, execution = state
        if execution not in (ExecutionStatus.AVAILABLE, ExecutionStatus.UNAVAILABLE):
            return False  # it ran, or runs: AWS owns it
        if status in (ChangeSetStatus.CREATE_PENDING, ChangeSetStatus.CREATE_IN_PROGRESS):
            return True
    try:
        dep.cfn.discard_change_set(change_set_id)
    except ClientError as exc:
        if classify(exc) is AwsErrorKind.CHANGE_SET_NOT_EXECUTABLE:
            return True  # InvalidChangeSetStatus: not deletable yet
        raise
    return False


def _found(dep: Deployment, request: Request) -> tuple[str, str] | None:
    """(id, stack id) of a change set asked for whose answer never came, found by its name."""
    try:
        return dep.cfn.find_change_set(request.stack, request.name)
    except ClientError:
        return None


def _left_behind(dep: Deployment, entry: _Entry, exc: Exception) -> str:
    # an id (an ARN) names the change set alone; a name needs its stack
    named = (
        ("--change-set-name", entry.change_set_id)
        if entry.change_set_id
        else ("--change-set-name", entry.request.name, "--stack-name", entry.request.stack)
    )
    which = entry.change_set_id or f"{entry.request.name} on {entry.request.stack}"
    why = " ".join(str(exc).split())
    delete = dep.target.aws_command("cloudformation", "delete-change-set", *named)
    return f"change set {which} could not be deleted ({why}); delete it with '{delete}'"


def _ledger(dep: Deployment) -> Ledger:
    if dep.ledger is None:
        raise RuntimeError("a change set is made only inside change_sets.owned(dep)")
    return dep.ledger


@contextmanager
def owned(dep: Deployment, say: Callable[[str], None] = lambda line: None) -> Iterator[Ledger]:
    """The ledger of one flow: on every way out (a return, an error, Ctrl-C, SIGTERM) each
    change set made inside that was neither executed nor kept is deleted. Nested flows share
    the outermost ledger."""
    if dep.ledger is not None:
        yield dep.ledger
        return
    ledger = dep.ledger = Ledger(dep, say)
    failed = True
    try:
        yield ledger
        failed = False
    finally:
        dep.ledger = None
        left = ledger.close()
        for line in left:
            say(f"WARNING: {line}")
        if left and not failed:
            raise DeployError(left[0])
