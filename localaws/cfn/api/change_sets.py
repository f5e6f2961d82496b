"""Change set actions: CreateChangeSet, DescribeChangeSet, ListChangeSets, DeleteChangeSet,
ExecuteChangeSet, and DescribeEvents for a change set (its pre-deployment validation)."""

from __future__ import annotations

import contextlib
from typing import Any

from moto.cloudformation.exceptions import AlreadyExistsException, ValidationError
from moto.core.responses import ActionResult, EmptyResult

from localaws.cfn import capabilities as capabilities_
from localaws.cfn import change_set_computation, change_set_records, drift_aware, import_rules
from localaws.cfn.api.common import (
    UPDATABLE,
    InvalidChangeSetStatus,
    backend_of,
    check_stack_name,
    find_stack,
    given_parameters,
    operate,
    start_lock,
    tags,
    template_body,
)
from localaws.cfn.change_set_records import ChangeSetRecord, change_set_arn
from localaws.cfn.intrinsics import parse_template
from localaws.cfn.loading import load
from localaws.cfn.operations import create, import_resources, update
from localaws.cfn.stacks import event, new_stack


def create_change_set(self: Any) -> ActionResult:
    backend = backend_of(self)
    name = self._get_param("StackName")
    cs_name = self._get_param("ChangeSetName")
    kind = self._get_param("ChangeSetType", "UPDATE")
    include_nested = self._get_bool_param("IncludeNestedStacks", False)
    mode = self._get_param("DeploymentMode")
    if not cs_name or not cs_name[0].isalpha():
        raise ValidationError(message=f"Invalid change set name: {cs_name}")
    drift_aware.check_request(mode, kind, include_nested)
    existing = None
    with contextlib.suppress(ValidationError):
        existing = find_stack(backend, name)
    if kind == "IMPORT":
        _check_import_target(name, existing)
    elif kind == "CREATE":
        check_stack_name(name)
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
    previous = existing if kind != "CREATE" else None
    body = template_body(self, previous)
    given = given_parameters(self, previous)
    capabilities = self._get_param("Capabilities", []) or []
    capabilities_.check(parse_template(body), capabilities)
    to_import: dict[str, str] = {}
    if kind == "IMPORT":
        template, _, _ = load(existing, body, given)
        deployed = existing if existing is not None and existing.local.template else None
        requested = self._get_param("ResourcesToImport", []) or []
        to_import = import_rules.check_request(deployed, template, requested, include_nested)
    stack = existing
    if stack is None:
        stack = new_stack(
            backend,
            name,
            tags=tags(self),
            notification_arns=self._get_param("NotificationARNs", []),
            role_arn=self._get_param("RoleARN"),
            status="REVIEW_IN_PROGRESS",
        )
    load(stack, body, given)  # a template or parameter error fails the call, as on AWS
    record = ChangeSetRecord(
        change_set_id=change_set_arn(backend, cs_name),
        change_set_name=cs_name,
        stack=stack,
        change_set_type=kind,
        template_body=body,
        parameters=given,
        description=self._get_param("Description"),
        capabilities=capabilities,
        tags=tags(self),
        include_nested=include_nested,
        on_stack_failure=self._get_param("OnStackFailure"),
        import_existing=self._get_bool_param("ImportExistingResources", False),
        deployment_mode=mode,
        deployment_config=_deployment_config(self),
        to_import=to_import,
    )
    if existing is None:
        event(stack, "REVIEW_IN_PROGRESS", "User Initiated")
    change_set_computation.make(backend, record)
    change_set_records.pace(record)
    return ActionResult({"Id": record.change_set_id, "StackId": stack.stack_id})


def _deployment_config(self: Any) -> dict:
    """DeploymentConfig as given (API_DeploymentConfig: Mode STANDARD | EXPRESS,
    DisableRollback a boolean); DescribeChangeSet returns it."""
    given = self._get_param("DeploymentConfig") or {}
    mode = given.get("Mode")
    if mode not in (None, "STANDARD", "EXPRESS"):
        raise ValidationError(
            message=f"1 validation error detected: Value '{mode}' at 'deploymentConfig.mode' "
            "failed to satisfy constraint: Member must satisfy enum value set: "
            "[STANDARD, EXPRESS]"
        )
    out: dict[str, Any] = {}
    if mode:
        out["Mode"] = mode
    if "DisableRollback" in given:
        out["DisableRollback"] = str(given["DisableRollback"]).lower() == "true"
    return out


def _check_import_target(name: str, existing: Any) -> None:
    """IMPORT into an existing stack that can be updated, or one that does not exist yet
    (resource-import-new-stack.html); a nested stack is imported into by its own stack id."""
    if existing is None:
        check_stack_name(name)
        return
    if existing.status != "REVIEW_IN_PROGRESS" and existing.status not in UPDATABLE:
        raise ValidationError(
            message=f"Stack:{existing.stack_id} is in {existing.status} state and can not be "
            "updated."
        )


def describe_change_set(self: Any) -> ActionResult:
    record = change_set_records.find(
        backend_of(self), self._get_param("ChangeSetName"), self._get_param("StackName")
    )
    return ActionResult(record.describe(self._get_bool_param("IncludePropertyValues", False)))


def list_change_sets(self: Any) -> ActionResult:
    backend = backend_of(self)
    stack = find_stack(backend, self._get_param("StackName"))
    summaries = [
        r.summary() for r in list(backend.change_sets.values()) if r.stack_id == stack.stack_id
    ]
    return ActionResult({"Summaries": summaries})


def delete_change_set(self: Any) -> EmptyResult:
    backend = backend_of(self)
    record = change_set_records.find(
        backend, self._get_param("ChangeSetName"), self._get_param("StackName"), documented=False
    )
    if record.parent_id:
        raise ValidationError(message="Cannot delete a nested change set; delete its root")
    if record.creating():
        # API_DeleteChangeSet: InvalidChangeSetStatus, "the change set status might be
        # CREATE_IN_PROGRESS" (the text is the local AWS's own)
        raise InvalidChangeSetStatus(
            f"ChangeSet [{record.change_set_id}] cannot be deleted in its current status of "
            "[CREATE_IN_PROGRESS]"
        )
    change_set_records.delete(backend, record)
    return EmptyResult()


def execute_change_set(self: Any) -> EmptyResult:
    backend = backend_of(self)
    record = change_set_records.find(
        backend, self._get_param("ChangeSetName"), self._get_param("StackName")
    )
    if record.parent_id:
        raise InvalidChangeSetStatus(
            "Cannot execute a nested change set directly; execute its root change set "
            f"[{record.root_id}]"
        )
    stack = record.stack
    with start_lock:
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
        change_set_records.start_execution(backend, record)
        stack.status = f"{record.change_set_type}_IN_PROGRESS"

    disable = self._get_bool_param("DisableRollback", False)
    retain = self._get_bool_param("RetainExceptOnCreate", False)

    def work() -> None:
        stack.local.import_existing = record.import_existing
        try:
            run()
        finally:
            stack.local.import_existing = False

    def run() -> None:
        if record.change_set_type == "IMPORT":
            stack.local.capabilities = record.capabilities
            import_resources.run(
                stack,
                record.template_body,
                record.parameters,
                record.to_import,
                record.capabilities,
            )
            ok = stack.status == "IMPORT_COMPLETE"
        elif record.change_set_type == "CREATE":
            stack.tags = record.tags or stack.tags
            on_failure = record.on_stack_failure or ("DO_NOTHING" if disable else "ROLLBACK")
            stack.local.disable_rollback = on_failure == "DO_NOTHING"
            create.run(
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
            revert = record.deployment_mode == drift_aware.REVERT_DRIFT
            update.run(stack, record.template_body, record.parameters, disable, revert)
            ok = stack.status == "UPDATE_COMPLETE"
        change_set_records.mark_executed(backend, record, ok)

    operate(stack, work, record.express)
    return EmptyResult()


def describe_events(self: Any) -> ActionResult:
    """The operation events of a change set: its pre-deployment validation results."""
    name = self._get_param("ChangeSetName")
    if not name:
        raise ValidationError(
            message="DescribeEvents is supported by the local AWS for a ChangeSetName only"
        )
    record = change_set_records.find(
        backend_of(self), name, self._get_param("StackName"), documented=False
    )
    events = [] if record.creating() else change_set_records.validation_events(record)
    if (self._get_param("Filters") or {}).get("FailedEvents"):
        events = [e for e in events if e["ValidationStatus"] == "FAILED"]
    return ActionResult({"OperationEvents": events})
