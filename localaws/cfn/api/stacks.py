"""Stack actions: CreateStack, UpdateStack, DeleteStack, DescribeStacks, ListStacks,
UpdateTerminationProtection, CancelUpdateStack and ContinueUpdateRollback."""

from __future__ import annotations

from typing import Any

from moto.cloudformation.exceptions import AlreadyExistsException, ValidationError
from moto.cloudformation.models import Stack
from moto.core.responses import ActionResult, EmptyResult

from localaws.cfn import capabilities as capabilities_
from localaws.cfn import change_set_records
from localaws.cfn.api.common import (
    UPDATABLE,
    backend_of,
    check_stack_name,
    find_stack,
    given_parameters,
    operate,
    start_lock,
    tags,
    template_body,
)
from localaws.cfn.intrinsics import parse_template
from localaws.cfn.loading import load
from localaws.cfn.operations import create, delete, update
from localaws.cfn.stacks import new_stack, root_of


def protected(stack: Stack) -> bool:
    """Termination protection, which a nested stack takes from its root: "Enabling or disabling
    termination protection on a stack passes the same choice on to any nested stacks belonging
    to that stack as well"
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-protect-stacks.html)."""
    return bool(root_of(stack).enable_termination_protection)


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
        "EnableTerminationProtection": protected(stack),
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


def create_stack(self: Any) -> ActionResult:
    backend = backend_of(self)
    name = self._get_param("StackName")
    check_stack_name(name)
    if any(s.name == name for s in list(backend.stacks.values())):
        raise AlreadyExistsException(f"Stack [{name}] already exists")
    body = template_body(self)
    capabilities = self._get_param("Capabilities", []) or []
    capabilities_.check(parse_template(body), capabilities)
    stack = new_stack(
        backend,
        name,
        tags=tags(self),
        notification_arns=self._get_param("NotificationARNs", []),
        role_arn=self._get_param("RoleARN"),
        termination_protection=self._get_bool_param("EnableTerminationProtection", False),
        policy=self._get_param("StackPolicyBody"),
        timeout=self._get_param("TimeoutInMinutes"),
    )
    try:
        load(stack, body, given_parameters(self, None))
    except Exception:
        del backend.stacks[stack.stack_id]
        raise
    given = given_parameters(self, None)
    disable = self._get_bool_param("DisableRollback", False)
    on_failure = self._get_param("OnFailure") or ("DO_NOTHING" if disable else "ROLLBACK")
    stack.local.disable_rollback = on_failure == "DO_NOTHING"
    retain = self._get_bool_param("RetainExceptOnCreate", False)
    operate(stack, lambda: create.run(stack, body, given, capabilities, on_failure, retain))
    return ActionResult({"StackId": stack.stack_id})


def update_stack(self: Any) -> ActionResult:
    backend = backend_of(self)
    stack = find_stack(backend, self._get_param("StackName"))
    body = template_body(self, stack)
    given = given_parameters(self, stack)
    capabilities = self._get_param("Capabilities", []) or []
    template, params, _ = load(stack, body, given)
    capabilities_.check(template, capabilities)
    with start_lock:
        if stack.status not in UPDATABLE:
            raise ValidationError(
                message=f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated."
            )
        if template == stack.local.template and params == stack.local.parameters:
            raise ValidationError(message="No updates are to be performed.")
        if self._get_param("Tags"):
            stack.tags = tags(self)
        stack.local.capabilities = capabilities
        # change sets made before this update no longer describe the stack
        change_set_records.make_obsolete(backend, stack)
        stack.status = "UPDATE_IN_PROGRESS"  # claimed: a concurrent start sees it at once
    disable = self._get_bool_param("DisableRollback", False)
    operate(stack, lambda: update.run(stack, body, given, disable))
    return ActionResult({"StackId": stack.stack_id})


def delete_stack(self: Any) -> EmptyResult:
    backend = backend_of(self)
    try:
        stack = find_stack(backend, self._get_param("StackName"))
    except ValidationError:
        return EmptyResult()  # AWS: deleting a stack that does not exist succeeds
    # a nested stack under a protected root too: "the operation fails and the nested stack
    # remains unchanged" (using-cfn-protect-stacks.html)
    if protected(stack):
        raise ValidationError(
            message=f"Stack [{stack.name}] cannot be deleted while TerminationProtection is enabled"
        )
    with start_lock:
        if stack.status == "DELETE_IN_PROGRESS":
            return EmptyResult()  # already going
        if stack.status.endswith("_IN_PROGRESS") and stack.status != "REVIEW_IN_PROGRESS":
            raise ValidationError(
                message=f"Stack [{stack.name}] cannot be deleted while in status {stack.status}"
            )
        stack.status = "DELETE_IN_PROGRESS"
    operate(stack, lambda: delete.run(stack))
    return EmptyResult()


def describe_stacks(self: Any) -> ActionResult:
    backend = backend_of(self)
    name = self._get_param("StackName")
    if name:
        stacks = [find_stack(backend, name, include_deleted=True)]
    else:
        stacks = list(backend.stacks.values())
    return ActionResult({"Stacks": [describe_stack(s) for s in stacks]})


def list_stacks(self: Any) -> ActionResult:
    backend = backend_of(self)
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


def update_termination_protection(self: Any) -> ActionResult:
    backend = backend_of(self)
    stack = find_stack(backend, self._get_param("StackName"))
    if stack.local.parent_id:
        raise ValidationError(
            message="Termination protection cannot be updated on nested stacks; update it on the "
            f"root stack {stack.local.root_id}"
        )
    stack.enable_termination_protection = self._get_bool_param("EnableTerminationProtection")
    return ActionResult({"StackId": stack.stack_id})


def cancel_update_stack(self: Any) -> EmptyResult:
    backend = backend_of(self)
    stack = find_stack(backend, self._get_param("StackName"))
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
    as they are, and may name only resources that failed to roll back: "You can specify only
    resources that are in the UPDATE_FAILED state because a rollback failed. You can't specify
    resources that are in the UPDATE_FAILED state for other reasons"."""
    backend = backend_of(self)
    stack = find_stack(backend, self._get_param("StackName"))
    skip = set(self._get_param("ResourcesToSkip", []) or [])
    with start_lock:
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
        _, stuck, _ = stack.local.pending_rollback
        failed_rollback = {rec.logical_resource_id for rec, _, _ in stuck}
        others = sorted(skip - failed_rollback)
        if others:
            raise ValidationError(
                message=f"ResourcesToSkip may name only resources in UPDATE_FAILED because their "
                f"rollback failed ({', '.join(sorted(failed_rollback))}); not: {', '.join(others)}"
            )
        stack.status = "UPDATE_ROLLBACK_IN_PROGRESS"
    operate(stack, lambda: update.continue_rollback(stack, skip))
    return EmptyResult()
