"""What the API handlers share: finding a stack, reading the template and parameters of a
request, checking a stack name, and running an operation (instantly or at AWS's pace)."""

from __future__ import annotations

import re
import threading
from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import Stack
from moto.core.exceptions import ServiceException

from localaws import pacing
from localaws.cfn import templates

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
start_lock = threading.Lock()


# helpers ----------
def operate(stack: Stack, work: Any, express: bool = False) -> None:
    """Run a stack operation: within the call (instant) or in the background (paced), in
    which case the call returns once the operation's first event is recorded."""
    before = len(stack.events)
    instant = not pacing.paced()
    pacing.run(work, lambda: len(stack.events) > before, express)
    if instant:  # the answer says so (server.ENDED_IN_CALL)
        pacing.mark_ended_in_call()


def backend_of(self: Any) -> Any:
    return self.cloudformation_backend


def find_stack(backend: Any, name_or_id: str, include_deleted: bool = False) -> Stack:
    if name_or_id in backend.stacks:
        return backend.stacks[name_or_id]
    for stack in list(backend.stacks.values()):
        if stack.name == name_or_id:
            return stack
    if include_deleted and name_or_id in backend.deleted_stacks:
        return backend.deleted_stacks[name_or_id]
    raise ValidationError(name_or_id)


def template_body(self: Any, stack: Stack | None = None) -> str:
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


def given_parameters(self: Any, stack: Stack | None) -> dict[str, str]:
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


def tags(self: Any) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in self._get_param("Tags", []) or []}


STACK_NAME = re.compile(r"[a-zA-Z][-a-zA-Z0-9]*")
TEMPLATE_BODY_LIMIT = 51_200  # bytes (cloudformation-limits.html); larger goes by TemplateURL


def check_stack_name(name: str) -> None:
    """API_CreateStack StackName: "A stack name can contain only alphanumeric characters (case
    sensitive) and hyphens. It must start with an alphabetical character and can't be longer
    than 128 characters." """
    if not STACK_NAME.fullmatch(name or "") or len(name) > 128:
        raise ValidationError(
            message=f"1 validation error detected: Value '{name}' at 'stackName' failed to "
            "satisfy constraint: Member must satisfy regular expression pattern: "
            "[a-zA-Z][-a-zA-Z0-9]* and have length less than or equal to 128"
        )
