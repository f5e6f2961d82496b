"""`bootstrap`: the regional artifacts bucket, as its own small stack (the seed's
"verify backend"). Idempotent: an up-to-date stack is left alone."""

from __future__ import annotations

import json
from dataclasses import dataclass

from mirror_infra.aws.cfn_answers import StackInfo
from mirror_infra.aws.cloudformation import CloudFormation
from mirror_infra.aws.status import StackStatus
from mirror_infra.aws.target import Target
from mirror_infra.aws.wait import Backoff, Timeout
from mirror_infra.errors import DeployError, NotBootstrappedError


@dataclass(frozen=True)
class BootstrapResult:
    bucket: str
    action: str  # "created", "updated", "unchanged"


def _body() -> str:
    from mirror_infra.build import serialise
    from templates_src import artifacts

    return serialise(artifacts.template())


def artifacts_bucket(target: Target) -> str:
    """The bucket `plan` uploads to, or NotBootstrappedError saying what to run."""
    from templates_src.artifacts import STACK_NAME

    info = CloudFormation(target.client("cloudformation")).stack(STACK_NAME)
    if (
        info is None
        or not info.status.succeeded
        and info.status not in (StackStatus.UPDATE_ROLLBACK_COMPLETE,)
    ):
        raise NotBootstrappedError(
            f"no artifacts bucket in {target.region} (stack {STACK_NAME} "
            f"{'missing' if info is None else info.status}); run "
            f"'{target.tool_command('bootstrap')}' first"
        )
    return info.outputs["BucketName"]


def bootstrap(target: Target, timeout: float = 900) -> BootstrapResult:
    from templates_src.artifacts import STACK_NAME

    cfn = CloudFormation(target.client("cloudformation"))
    body = _body()
    info = _wait(cfn, STACK_NAME, target, timeout)
    if info is not None and info.status is StackStatus.ROLLBACK_COMPLETE:
        # a failed first create holds nothing; its termination protection would block the delete
        cfn.set_termination_protection(info.stack_id, False)
        cfn.delete(info.stack_id)
        info = _wait(cfn, STACK_NAME, target, timeout)
    if info is None:
        cfn.create(STACK_NAME, body, termination_protection=True)
        action = "created"
    else:
        if cfn.template(STACK_NAME) == json.loads(body):
            return BootstrapResult(info.outputs["BucketName"], "unchanged")
        cfn.update(STACK_NAME, body)
        action = "updated"
    final = _wait(cfn, STACK_NAME, target, timeout)
    if final is None or not final.status.succeeded:
        status = final.status if final else "deleted"
        reason = f": {final.reason}" if final and final.reason else ""
        raise DeployError(f"bootstrap stack {STACK_NAME} ended {status}{reason}")
    return BootstrapResult(final.outputs["BucketName"], action)


def _wait(cfn: CloudFormation, name: str, target: Target, timeout: float) -> StackInfo | None:
    try:
        return cfn.wait_settled(name, Backoff.for_target(target.local), timeout)
    except Timeout:
        raise DeployError(f"bootstrap stack {name} did not settle within {timeout:.0f}s") from None
