"""The CloudFormation API of the local AWS: moto's request parsing and serialisation, with the
stack operations answered by this package's engine, change sets, drift detection and the calls
moto lacks (UpdateTerminationProtection, CancelUpdateStack, the four drift calls)."""

from __future__ import annotations

import contextlib
from typing import Any

from moto.cloudformation.exceptions import AlreadyExistsException, ValidationError
from moto.cloudformation.models import Stack
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, EmptyResult

from localaws.cfn import changesets, drift, engine, templates
from localaws.cfn.intrinsics import parse_template

UPDATABLE = {
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_COMPLETE",
}


class InsufficientCapabilities(ServiceException):
    code = "InsufficientCapabilitiesException"


class InvalidChangeSetStatus(ServiceException):
    code = "InvalidChangeSetStatus"


# helpers ----------
def _backend(self: Any) -> Any:
    return self.cloudformation_backend


def _find_stack(backend: Any, name_or_id: str, include_deleted: bool = False) -> Stack:
    if name_or_id in backend.stacks:
        return backend.stacks[name_or_id]
    for stack in backend.stacks.values():
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


def required_capability(template: dict) -> str | None:
    needed = None
    for spec in (template.get("Resources") or {}).values():
        kind = spec.get("Type", "")
        if kind.startswith("AWS::IAM::"):
            props = spec.get("Properties") or {}
            named = any(
                k in props for k in ("RoleName", "UserName", "GroupName", "ManagedPolicyName")
            )
            needed = "CAPABILITY_NAMED_IAM" if named else (needed or "CAPABILITY_IAM")
    return needed


def _check_capabilities(template: dict, capabilities: list[str]) -> None:
    needed = required_capability(template)
    if needed == "CAPABILITY_NAMED_IAM" and needed not in capabilities:
        raise InsufficientCapabilities(f"Requires capabilities : [{needed}]")
    if needed == "CAPABILITY_IAM" and not {"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"} & set(
        capabilities
    ):
        raise InsufficientCapabilities(f"Requires capabilities : [{needed}]")


def describe_stack(stack: Stack) -> dict:
    st = stack.local
    out: dict[str, Any] = {
        "StackId": stack.stack_id,
        "StackName": stack.name,
        "Parameters": st.parameter_list(),
        "CreationTime": stack.creation_time,
        "RollbackConfiguration": {},
        "StackStatus": stack.status,
        "DisableRollback": False,
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
    if any(s.name == name for s in backend.stacks.values()):
        raise AlreadyExistsException(f"Stack [{name}] already exists")
    body = _body(self)
    capabilities = self._get_param("Capabilities", []) or []
    _check_capabilities(parse_template(body), capabilities)
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
    engine.create(stack, body, _given(self, None), capabilities)
    return ActionResult({"StackId": stack.stack_id})


def update_stack(self: Any) -> ActionResult:
    backend = _backend(self)
    stack = _find_stack(backend, self._get_param("StackName"))
    if stack.status not in UPDATABLE:
        raise ValidationError(
            message=f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated."
        )
    body = _body(self, stack)
    given = _given(self, stack)
    capabilities = self._get_param("Capabilities", []) or []
    template, params, _ = engine.load(stack, body, given)
    _check_capabilities(template, capabilities)
    if template == stack.local.template and params == stack.local.parameters:
        raise ValidationError(message="No updates are to be performed.")
    if self._get_param("Tags"):
        stack.tags = _tags(self)
    stack.local.capabilities = capabilities
    engine.update(stack, body, given)
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
    engine.delete(stack)
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
    _check_capabilities(parse_template(body), capabilities)
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
    )
    if existing is None:
        engine.event(stack, "REVIEW_IN_PROGRESS", "User Initiated")
    changesets.make(backend, record)
    return ActionResult({"Id": record.change_set_id, "StackId": stack.stack_id})


def describe_change_set(self: Any) -> ActionResult:
    record = changesets.find(
        _backend(self), self._get_param("ChangeSetName"), self._get_param("StackName")
    )
    return ActionResult(record.describe())


def list_change_sets(self: Any) -> ActionResult:
    backend = _backend(self)
    stack = _find_stack(backend, self._get_param("StackName"))
    summaries = [r.summary() for r in backend.change_sets.values() if r.stack_id == stack.stack_id]
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
    if record.status != "CREATE_COMPLETE" or record.execution_status != "AVAILABLE":
        raise InvalidChangeSetStatus(
            f"ChangeSet [{record.change_set_id}] cannot be executed in its current status of "
            f"[{record.status}]"
        )
    stack = record.stack
    if record.change_set_type == "CREATE":
        stack.tags = record.tags or stack.tags
        engine.create(stack, record.template_body, record.parameters, record.capabilities)
        ok = stack.status == "CREATE_COMPLETE"
    else:
        if record.tags:
            stack.tags = record.tags
        stack.local.capabilities = record.capabilities
        engine.update(stack, record.template_body, record.parameters)
        ok = stack.status == "UPDATE_COMPLETE"
    changesets.mark_executed(backend, record, ok)
    return EmptyResult()


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


def describe_stack_resources(self: Any) -> ActionResult:
    backend = _backend(self)
    stack = _find_stack(backend, self._get_param("StackName"), include_deleted=True)
    logical = self._get_param("LogicalResourceId")
    rows = [
        _resource(stack, r)
        for r in stack.local.resources.values()
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
    for rec in stack.local.resources.values():
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
    # updates here finish within the request, so there is never one in progress to cancel
    raise ValidationError(
        message=f"CancelUpdateStack cannot be called from current stack status {stack.status}."
    )


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
        for r in stack.local.resources.values()
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
        describe_stacks,
        list_stacks,
        describe_stack_resources,
        describe_stack_resource,
        list_stack_resources,
        update_termination_protection,
        cancel_update_stack,
        detect_stack_drift,
        describe_stack_drift_detection_status,
        describe_stack_resource_drifts,
        detect_stack_resource_drift,
    )
}
