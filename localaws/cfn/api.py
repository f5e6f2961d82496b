"""The CloudFormation API of the local AWS: moto's request parsing and serialisation, with the
stack operations answered by this package's engine, change sets, drift detection and the calls
moto lacks (UpdateTerminationProtection, CancelUpdateStack, the four drift calls)."""

from __future__ import annotations

import contextlib
import re
import threading
from typing import Any

from moto.cloudformation.exceptions import AlreadyExistsException, ValidationError
from moto.cloudformation.models import Stack
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, EmptyResult

from localaws import pacing
from localaws.cfn import capabilities as capabilities_
from localaws.cfn import changesets, drift, engine, templates
from localaws.cfn.intrinsics import parse_template

UPDATABLE = {
    "CREATE_COMPLETE",
    "UPDATE_FAILED",  # left by an update with DisableRollback: fix forward
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_COMPLETE",
}


class InvalidChangeSetStatus(ServiceException):
    code = "InvalidChangeSetStatus"


# one ExecuteChangeSet/UpdateStack decides at a time whether it may start (AWS: "one runs, the
# other InvalidChangeSetStatus")
_start_lock = threading.Lock()


# helpers ----------
def _operate(stack: Stack, work: Any) -> None:
    """Run a stack operation: within the call (instant) or in the background (paced), in
    which case the call returns once the operation's first event is recorded."""
    before = len(stack.events)
    pacing.run(work, lambda: len(stack.events) > before)


def _backend(self: Any) -> Any:
    return self.cloudformation_backend


def _find_stack(backend: Any, name_or_id: str, include_deleted: bool = False) -> Stack:
    if name_or_id in backend.stacks:
        return backend.stacks[name_or_id]
    for stack in list(backend.stacks.values()):
        if stack.name == name_or_id:
            return stack
    if include_deleted and name_or_id in backend.deleted_stacks:
        return backend.deleted_stacks[name_or_id]
    raise ValidationError(name_or_id)


def _body(self: Any, stack: Stack | None = None) -> str:
    body = self._get_param("TemplateBody")
    url = self._get_param("TemplateURL")
    if self._get_bool_param("UsePreviousTemplate", False):
        if stack is None:
            raise ValidationError(message="UsePreviousTemplate requires an existing stack")
        return stack.template
    if url:
        return templates.fetch(url, self.current_account)
    if body:
        if len(body.encode("utf-8")) > TEMPLATE_BODY_LIMIT:
            raise ValidationError(
                message="1 validation error detected: Value at 'templateBody' failed to satisfy "
                f"constraint: Member must have length less than or equal to {TEMPLATE_BODY_LIMIT}"
            )
        return body
    raise ValidationError(message="Either Template URL or Template Body must be specified.")


def _given(self: Any, stack: Stack | None) -> dict[str, str]:
    out = {}
    for p in self._get_param("Parameters", []) or []:
        key = p["ParameterKey"]
        if str(p.get("UsePreviousValue", "false")).lower() == "true":
            if stack is None or key not in stack.local.given_parameters:
                if stack is not None and key in stack.local.parameters:
                    value = stack.local.parameters[key]
                    out[key] = ",".join(value) if isinstance(value, list) else str(value)
                    continue
                raise ValidationError(message=f"Parameter {key} has no previous value")
            out[key] = stack.local.given_parameters[key]
        else:
            out[key] = p.get("ParameterValue", "")
    return out


def _tags(self: Any) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in self._get_param("Tags", []) or []}


STACK_NAME = re.compile(r"[a-zA-Z][-a-zA-Z0-9]*")
TEMPLATE_BODY_LIMIT = 51_200  # bytes (cloudformation-limits.html); larger goes by TemplateURL


def _check_stack_name(name: str) -> None:
    """API_CreateStack StackName: "A stack name can contain only alphanumeric characters (case
    sensitive) and hyphens. It must start with an alphabetical character and can't be longer
    than 128 characters." """
    if not STACK_NAME.fullmatch(name or "") or len(name) > 128:
        raise ValidationError(
            message=f"1 validation error detected: Value '{name}' at 'stackName' failed to "
            "satisfy constraint: Member must satisfy regular expression pattern: "
            "[a-zA-Z][-a-zA-Z0-9]* and have length less than or equal to 128"
        )


def describe_stack(stack: Stack) -> dict:
    st = stack.local
    out: dict[str, Any] = {
        "StackId": stack.stack_id,
        "StackName": stack.name,
        "Parameters": st.parameter_list(),
        "CreationTime": stack.creation_time,
        "RollbackConfiguration": {},
        "StackStatus": stack.status,
        "DisableRollback": st.disable_rollback,
        "NotificationARNs": stack.notification_arns or [],
        "Capabilities": st.capabilities,
        "Tags": [{"Key": k, "Value": v} for k, v in (stack.tags or {}).items()],
        "EnableTerminationProtection": bool(stack.enable_termination_protection),
        "DriftInformation": {"StackDriftStatus": st.drift_status},
    }
    if st.drift_checked:
        out["DriftInformation"]["LastCheckTimestamp"] = st.drift_checked
    if stack.description:
        out["Description"] = stack.description
    if st.status_reason:
        out["StackStatusReason"] = st.status_reason
    if st.outputs:
        out["Outputs"] = st.outputs
    if st.last_updated:
        out["LastUpdatedTime"] = st.last_updated
    if st.deletion_time:
        out["DeletionTime"] = st.deletion_time
    if st.parent_id:
        out["ParentId"] = st.parent_id
        out["RootId"] = st.root_id
    if stack.timeout_in_minutes:
        out["TimeoutInMinutes"] = int(stack.timeout_in_minutes)
    if stack.role_arn:
        out["RoleARN"] = stack.role_arn
    return out


def _resource(stack: Stack, rec: Any, detail: bool = False) -> dict:
    drift_info = {"StackResourceDriftStatus": "NOT_CHECKED"}
    if rec.drift:
        drift_info = {
            "StackResourceDriftStatus": rec.drift["StackResourceDriftStatus"],
            "LastCheckTimestamp": rec.drift["Timestamp"],
        }
    out = {
        "StackName": stack.name,
        "StackId": stack.stack_id,
        "LogicalResourceId": rec.logical_resource_id,
        "PhysicalResourceId": rec.physical_resource_id or "",
        "ResourceType": rec.cf_resource_type,
        "ResourceStatus": rec.status,
        "DriftInformation": drift_info,
    }
    if rec.status_reason:
        out["ResourceStatusReason"] = rec.status_reason
    if detail:
        out["LastUpdatedTimestamp"] = rec.timestamp
        metadata = (stack.local.template.get("Resources") or {}).get(rec.logical_resource_id, {})
        if metadata.get("Metadata"):
            import json

            out["Metadata"] = json.dumps(metadata["Metadata"])
    else:
        out["Timestamp"] = rec.timestamp
    return out


# handlers (installed as CloudFormationResponse methods) ----------
def create_stack(self: Any) -> ActionResult:
    backend = _backend(self)
    name = self._get_param("StackName")
    _check_stack_name(name)
    if any(s.name == name for s in list(backend.stacks.values())):
        raise AlreadyExistsException(f"Stack [{name}] already exists")
    body = _body(self)
    capabilities = self._get_param("Capabilities", []) or []
    capabilities_.check(parse_template(body), capabilities)
    stack = engine.new_stack(
        backend,
        name,
        tags=_tags(self),
        notification_arns=self._get_param("NotificationARNs", []),
        role_arn=self._get_param("RoleARN"),
        termination_protection=self._get_bool_param("EnableTerminationProtection", False),
        policy=self._get_param("StackPolicyBody"),
        timeout=self._get_param("TimeoutInMinutes"),
    )
    try:
        engine.load(stack, body, _given(self, None))
    except Exception:
        del backend.stacks[stack.stack_id]
        raise
    given = _given(self, None)
    disable = self._get_bool_param("DisableRollback", False)
    on_failure = self._get_param("OnFailure") or ("DO_NOTHING" if disable else "ROLLBACK")
    stack.local.disable_rollback = on_failure == "DO_NOTHING"
    retain = self._get_bool_param("RetainExceptOnCreate", False)
    _operate(stack, lambda: engine.create(stack, body, given, capabilities, on_failure, retain))
    return ActionResult({"StackId": stack.stack_id})


def update_stack(self: Any) -> ActionResult:
    backend = _backend(self)
    stack = _find_stack(backend, self._get_param("StackName"))
    body = _body(self, stack)
    given = _given(self, stack)
    capabilities = self._get_param("Capabilities", []) or []
    template, params, _ = engine.load(stack, body, given)
    capabilities_.check(template, capabilities)
    with _start_lock:
        if stack.status not in UPDATABLE:
            raise ValidationError(
                message=f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated."
            )
        if template == stack.local.template and params == stack.local.parameters:
            raise ValidationError(message="No updates are to be performed.")
        if self._get_param("Tags"):
            stack.tags = _tags(self)
        stack.local.capabilities = capabilities
        # change sets made before this update no longer describe the stack
        changesets.make_obsolete(backend, stack)
        stack.status = "UPDATE_IN_PROGRESS"  # claimed: a concurrent start sees it at once
    disable = self._get_bool_param("DisableRollback", False)
    _operate(stack, lambda: engine.update(stack, body, given, disable))
    return ActionResult({"StackId": stack.stack_id})


def delete_stack(self: Any) -> EmptyResult:
    backend = _backend(self)
    try:
        stack = _find_stack(backend, self._get_param("StackName"))
    except ValidationError:
        return EmptyResult()  # AWS: deleting a stack that does not exist succeeds
    if stack.enable_termination_protection:
        raise ValidationError(
            message=f"Stack [{stack.name}] cannot be deleted while TerminationProtection is enabled"
        )
    with _start_lock:
        if stack.status == "DELETE_IN_PROGRESS":
            return EmptyResult()  # already going
        if stack.status.endswith("_IN_PROGRESS") and stack.status != "REVIEW_IN_PROGRESS":
            raise ValidationError(
                message=f"Stack [{stack.name}] cannot be deleted while in status {stack.status}"
            )
        stack.status = "DELETE_IN_PROGRESS"
    _operate(stack, lambda: engine.delete(stack))
    return EmptyResult()


def create_change_set(self: Any) -> ActionResult:
    backend = _backend(self)
    name = self._get_param("StackName")
    cs_name = self._get_param("ChangeSetName")
    kind = self._get_param("ChangeSetType", "UPDATE")
    if not cs_name or not cs_name[0].isalpha():
        raise ValidationError(message=f"Invalid change set name: {cs_name}")
    existing = None
    with contextlib.suppress(ValidationError):
        existing = _find_stack(backend, name)
    if kind == "CREATE":
        _check_stack_name(name)
        if existing is not None and existing.status != "REVIEW_IN_PROGRESS":
            raise AlreadyExistsException(
                f"Stack [{name}] already exists and cannot be created again with the changeSet "
                f"[{cs_name}]."
            )
    elif existing is None:
        raise ValidationError(message=f"Stack [{name}] does not exist")
    elif existing.status == "REVIEW_IN_PROGRESS" or existing.status not in UPDATABLE:
        raise ValidationError(
            message=f"Stack:{existing.stack_id} is in {existing.status} state and can not be "
            "updated."
        )
    body = _body(self, existing if kind == "UPDATE" else None)
    given = _given(self, existing if kind == "UPDATE" else None)
    capabilities = self._get_param("Capabilities", []) or []
    capabilities_.check(parse_template(body), capabilities)
    stack = existing
    if stack is None:
        stack = engine.new_stack(
            backend,
            name,
            tags=_tags(self),
            notification_arns=self._get_param("NotificationARNs", []),
            role_arn=self._get_param("RoleARN"),
            status="REVIEW_IN_PROGRESS",
        )
    engine.load(stack, body, given)  # a template or parameter error fails the call, as on AWS
    record = changesets.ChangeSetRecord(
        change_set_id=changesets.change_set_arn(backend, cs_name),
        change_set_name=cs_name,
        stack=stack,
        change_set_type=kind,
        template_body=body,
        parameters=given,
        description=self._get_param("Description"),
        capabilities=capabilities,
        tags=_tags(self),
        include_nested=self._get_bool_param("IncludeNestedStacks", False),
        on_stack_failure=self._get_param("OnStackFailure"),
    )
    if existing is None:
        engine.event(stack, "REVIEW_IN_PROGRESS", "User Initiated")
    changesets.make(backend, record)
    changesets.pace(record)
    return ActionResult({"Id": record.change_set_id, "StackId": stack.stack_id})


def describe_change_set(self: Any) -> ActionResult:
    record = changesets.find(
        _backend(self), self._get_param("ChangeSetName"), self._get_param("StackName")
    )
    return ActionResult(record.describe())


def list_change_sets(self: Any) -> ActionResult:
    backend = _backend(self)
    stack = _find_stack(backend, self._get_param("StackName"))
    summaries = [
        r.summary() for r in list(backend.change_sets.values()) if r.stack_id == stack.stack_id
    ]
    return ActionResult({"Summaries": summaries})


def delete_change_set(self: Any) -> EmptyResult:
    backend = _backend(self)
    record = changesets.find(
        backend, self._get_param("ChangeSetName"), self._get_param("StackName")
    )
    if record.parent_id:
        raise ValidationError(message="Cannot delete a nested change set; delete its root")
    todo = [record]
    while todo:
        item = todo.pop()
        backend.change_sets.pop(item.change_set_id, None)
        todo.extend(item.nested)
    return EmptyResult()


def execute_change_set(self: Any) -> EmptyResult:
    backend = _backend(self)
    record = changesets.find(
        backend, self._get_param("ChangeSetName"), self._get_param("StackName")
    )
    if record.parent_id:
        raise InvalidChangeSetStatus(
            "Cannot execute a nested change set directly; execute its root change set "
            f"[{record.root_id}]"
        )
    stack = record.stack
    with _start_lock:
        if record.creating():
            raise InvalidChangeSetStatus(
                f"ChangeSet [{record.change_set_id}] cannot be executed in its current status of "
                "[CREATE_IN_PROGRESS]"
            )
        if record.status != "CREATE_COMPLETE":
            raise InvalidChangeSetStatus(
                f"ChangeSet [{record.change_set_id}] cannot be executed in its current status of "
                f"[{record.status}]"
            )
        if record.execution_status != "AVAILABLE":
            raise InvalidChangeSetStatus(
                f"ChangeSet [{record.change_set_id}] cannot be executed in its current execution "
                f"status of [{record.execution_status}]"
            )
        changesets.start_execution(backend, record)
        stack.status = (
            "CREATE_IN_PROGRESS" if record.change_set_type == "CREATE" else ("UPDATE_IN_PROGRESS")
        )

    disable = self._get_bool_param("DisableRollback", False)
    retain = self._get_bool_param("RetainExceptOnCreate", False)

    def work() -> None:
        if record.change_set_type == "CREATE":
            stack.tags = record.tags or stack.tags
            on_failure = record.on_stack_failure or ("DO_NOTHING" if disable else "ROLLBACK")
            stack.local.disable_rollback = on_failure == "DO_NOTHING"
            engine.create(
                stack,
                record.template_body,
                record.parameters,
                record.capabilities,
                on_failure,
                retain,
            )
            ok = stack.status == "CREATE_COMPLETE"
        else:
            if record.tags:
                stack.tags = record.tags
            stack.local.capabilities = record.capabilities
            engine.update(stack, record.template_body, record.parameters, disable)
            ok = stack.status == "UPDATE_COMPLETE"
        changesets.mark_executed(backend, record, ok)

    _operate(stack, work)
    return EmptyResult()


def describe_events(self: Any) -> ActionResult:
    """The operation events of a change set: its pre-deployment validation results."""
    name = self._get_param("ChangeSetName")
    if not name:
        raise ValidationError(
            message="DescribeEvents is supported by the local AWS for a ChangeSetName only"
        )
    record = changesets.find(_backend(self), name, self._get_param("StackName"))
    events = [] if record.creating() else changesets.validation_events(record)
    if (self._get_param("Filters") or {}).get("FailedEvents"):
        events = [e for e in events if e["ValidationStatus"] == "FAILED"]
    return ActionResult({"OperationEvents": events})


def describe_stacks(self: Any) -> ActionResult:
    backend = _backend(self)
    name = self._get_param("StackName")
    if name:
        stacks = [_find_stack(backend, name, include_deleted=True)]
    else:
        stacks = list(backend.stacks.values())
    return ActionResult({"Stacks": [describe_stack(s) for s in stacks]})


def list_stacks(self: Any) -> ActionResult:
    backend = _backend(self)
    wanted = set(self._get_param("StackStatusFilter", []) or [])
    out = []
    for stack in list(backend.stacks.values()) + list(backend.deleted_stacks.values()):
        if wanted and stack.status not in wanted:
            continue
        item = {
            "StackId": stack.stack_id,
            "StackName": stack.name,
            "CreationTime": stack.creation_time,
            "StackStatus": stack.status,
            "DriftInformation": {"StackDriftStatus": stack.local.drift_status},
        }
        if stack.description:
            item["TemplateDescription"] = stack.description
        if stack.local.parent_id:
            item["ParentId"], item["RootId"] = stack.local.parent_id, stack.local.root_id
        if stack.local.deletion_time:
            item["DeletionTime"] = stack.local.deletion_time
        out.append(item)
    return ActionResult({"StackSummaries": out})


EVENTS_PAGE = 100  # AWS answers DescribeStackEvents in pages of at most 100 events


def describe_stack_events(self: Any) -> ActionResult:
    """Newest first, at most EVENTS_PAGE a page; NextToken names the last event returned, so
    events recorded between two pages never shift the next page."""
    backend = _backend(self)
    stack = _find_stack(backend, self._get_param("StackName"), include_deleted=True)
    events = list(reversed(stack.events))
    token = self._get_param("NextToken")
    start = 0
    if token:
        ids = [str(e.event_id) for e in events]
        if token not in ids:
            raise ValidationError(message="Invalid NextToken")
        start = ids.index(token) + 1
    page = events[start : start + EVENTS_PAGE]
    out: dict[str, Any] = {"StackEvents": page}
    if start + EVENTS_PAGE < len(events):
        out["NextToken"] = str(page[-1].event_id)
    return ActionResult(out)


def describe_stack_resources(self: Any) -> ActionResult:
    backend = _backend(self)
    stack = _find_stack(backend, self._get_param("StackName"), include_deleted=True)
    logical = self._get_param("LogicalResourceId")
    rows = [
        _resource(stack, r)
        for r in list(stack.local.resources.values())
        if logical is None or r.logical_resource_id == logical
    ]
    return ActionResult({"StackResources": rows})


def describe_stack_resource(self: Any) -> ActionResult:
    backend = _backend(self)
    stack = _find_stack(backend, self._get_param("StackName"), include_deleted=True)
    logical = self._get_param("LogicalResourceId")
    rec = stack.local.resources.get(logical)
    if rec is None:
        raise ValidationError(
            message=f"Resource {logical} does not exist for stack {self._get_param('StackName')}"
        )
    return ActionResult({"StackResourceDetail": _resource(stack, rec, detail=True)})


def list_stack_resources(self: Any) -> ActionResult:
    backend = _backend(self)
    stack = _find_stack(backend, self._get_param("StackName"), include_deleted=True)
    rows = []
    for rec in list(stack.local.resources.values()):
        row = _resource(stack, rec)
        row["LastUpdatedTimestamp"] = row.pop("Timestamp")
        row.pop("StackName")
        row.pop("StackId")
        rows.append(row)
    return ActionResult({"StackResourceSummaries": rows})


def update_termination_protection(self: Any) -> ActionResult:
    backend = _backend(self)
    stack = _find_stack(backend, self._get_param("StackName"))
    if stack.local.parent_id:
        raise ValidationError(
            message="Termination protection cannot be updated on nested stacks; update it on the "
            f"root stack {stack.local.root_id}"
        )
    stack.enable_termination_protection = self._get_bool_param("EnableTerminationProtection")
    return ActionResult({"StackId": stack.stack_id})


def cancel_update_stack(self: Any) -> EmptyResult:
    backend = _backend(self)
    stack = _find_stack(backend, self._get_param("StackName"))
    # AWS: "You can cancel only stacks that are in the UPDATE_IN_PROGRESS state" (in instant
    # mode an update ends within its own call, so there is never one to cancel)
    if stack.status != "UPDATE_IN_PROGRESS" or stack.local.parent_id:
        raise ValidationError(
            message=f"CancelUpdateStack cannot be called from current stack status {stack.status}."
        )
    stack.local.cancel_requested = True
    return EmptyResult()


def continue_update_rollback(self: Any) -> EmptyResult:
    """API_ContinueUpdateRollback: only from UPDATE_ROLLBACK_FAILED; ResourcesToSkip are left
    as they are."""
    backend = _backend(self)
    stack = _find_stack(backend, self._get_param("StackName"))
    skip = set(self._get_param("ResourcesToSkip", []) or [])
    with _start_lock:
        if stack.status != "UPDATE_ROLLBACK_FAILED" or stack.local.pending_rollback is None:
            raise ValidationError(
                message=f"Stack {stack.stack_id} is in {stack.status} state and can not "
                "continue rolling back."
            )
        nested = sorted(name for name in skip if "." in name)
        if nested:
            raise ValidationError(
                message=f"ResourcesToSkip of nested stacks ({', '.join(nested)}) is not "
                "supported by the local AWS"
            )
        stack.status = "UPDATE_ROLLBACK_IN_PROGRESS"
    _operate(stack, lambda: engine.continue_rollback(stack, skip))
    return EmptyResult()


def detect_stack_drift(self: Any) -> ActionResult:
    backend = _backend(self)
    stack = _find_stack(backend, self._get_param("StackName"))
    if stack.status.endswith("_IN_PROGRESS") or stack.status in ("ROLLBACK_COMPLETE",):
        raise ValidationError(
            message=f"Drift detection cannot be performed on stack {stack.stack_id} in status "
            f"{stack.status}"
        )
    detection = drift.detect_stack(stack)
    return ActionResult({"StackDriftDetectionId": detection["StackDriftDetectionId"]})


def describe_stack_drift_detection_status(self: Any) -> ActionResult:
    detection_id = self._get_param("StackDriftDetectionId")
    found = drift.detections(_backend(self)).get(detection_id)
    if found is None:
        raise ValidationError(message=f"Drift detection {detection_id} does not exist")
    return ActionResult(found)


def describe_stack_resource_drifts(self: Any) -> ActionResult:
    backend = _backend(self)
    stack = _find_stack(backend, self._get_param("StackName"))
    wanted = set(self._get_param("StackResourceDriftStatusFilters", []) or [])
    rows = [
        r.drift
        for r in list(stack.local.resources.values())
        if r.drift and (not wanted or r.drift["StackResourceDriftStatus"] in wanted)
    ]
    return ActionResult({"StackResourceDrifts": rows})


def detect_stack_resource_drift(self: Any) -> ActionResult:
    backend = _backend(self)
    stack = _find_stack(backend, self._get_param("StackName"))
    logical = self._get_param("LogicalResourceId")
    rec = stack.local.resources.get(logical)
    if rec is None:
        raise ValidationError(message=f"Resource {logical} does not exist for stack {stack.name}")
    return ActionResult({"StackResourceDrift": drift.detect_resource(stack, rec)})


HANDLERS = {
    fn.__name__: fn
    for fn in (
        create_stack,
        update_stack,
        delete_stack,
        create_change_set,
        describe_change_set,
        list_change_sets,
        delete_change_set,
        execute_change_set,
        describe_events,
        describe_stacks,
        list_stacks,
        describe_stack_events,
        describe_stack_resources,
        describe_stack_resource,
        list_stack_resources,
        update_termination_protection,
        cancel_update_stack,
        continue_update_rollback,
        detect_stack_drift,
        describe_stack_drift_detection_status,
        describe_stack_resource_drifts,
        detect_stack_resource_drift,
    )
}
