"""A saved plan is applied only while it still describes what would happen: refused when the
environment, the region, the templates, the stack or its change sets have moved on, or when the
rows a person reviewed are no longer the change set's own."""

from __future__ import annotations

from botocore.exceptions import ClientError

from mirror_infra.aws.cfn_answers import ChangeSet
from mirror_infra.aws.errors import AwsErrorKind, classify
from mirror_infra.aws.status import ExecutionStatus, StackStatus
from mirror_infra.build import BuildResult
from mirror_infra.deploy import protection
from mirror_infra.deploy.changes import expand_new_stacks, judge_in_place, read_changes, row_keys
from mirror_infra.deploy.context import Deployment
from mirror_infra.deploy.plan import Plan, template_hashes
from mirror_infra.errors import StalePlanError


def check_fresh(dep: Deployment, plan: Plan, build: BuildResult) -> ChangeSet | None:
    """Refuse a saved plan when the stack, the templates or the change set have moved on."""
    if plan.env != dep.cfg.name or plan.region != dep.target.region:
        raise StalePlanError(
            f"the plan is for {plan.env} in {plan.region}, not {dep.cfg.name} in "
            f"{dep.target.region}; pass the matching --env/--region"
        )
    if template_hashes(build) != plan.template_hashes:
        raise StalePlanError(
            "the templates in build/ changed since the plan was made; run 'plan' again"
        )
    info = dep.cfn.stack(dep.stack_name)
    if plan.create:
        if info is not None and info.status is not StackStatus.REVIEW_IN_PROGRESS:
            raise StalePlanError(
                f"{dep.stack_name} was created ({info.status}) since the plan was made; "
                "run 'plan' again"
            )
    elif info is None or info.last_updated != plan.stack_last_updated:
        now = info.last_updated if info else "deleted"
        raise StalePlanError(
            f"{dep.stack_name} changed since the plan was made (now {now}); run 'plan' again"
        )
    _check_guards(dep, plan)
    if plan.reverts:
        return _check_reverts(dep, plan)
    if plan.change_set_id is None and any(protection.is_guard(c) for c in plan.changes):
        return None  # only guards turned off: nothing for CloudFormation to run
    if plan.change_set_id is None:
        raise StalePlanError(
            "the plan names no change set: 'plan --out' saves only plans that have one, so this "
            "file was edited; run 'plan' again"
        )
    try:
        described = dep.cfn.change_set(plan.change_set_id)
    except ClientError as exc:
        if classify(exc) in (AwsErrorKind.CHANGE_SET_NOT_FOUND, AwsErrorKind.STACK_NOT_FOUND):
            raise StalePlanError(
                "the plan's change set no longer exists; run 'plan' again"
            ) from None
        raise
    if described.execution is not ExecutionStatus.AVAILABLE:
        raise StalePlanError(
            f"the plan's change set is {described.execution} (the stack moved on); run 'plan' again"
        )
    # the rows a person reviewed must be the change set's own: read and judge them again
    fresh = judge_in_place(
        dep.cfn, expand_new_stacks(read_changes(dep.cfn, described), build, plan.parameters), build
    )
    if row_keys(fresh) != row_keys([c for c in plan.changes if not protection.is_guard(c)]):
        raise StalePlanError(
            f"the plan's rows differ from its change set {described.change_set_id} (the file "
            "was edited); run 'plan' again"
        )
    return described


def _check_guards(dep: Deployment, plan: Plan) -> None:
    """The guards the plan turns off are still the ones params turn off on the stack now."""
    saved = [c for c in plan.changes if protection.is_guard(c)]
    if row_keys(saved) != row_keys(protection.guard_rows(dep)):
        raise StalePlanError(
            "the guards the plan turns off (termination protection, stack policies) are no "
            "longer what params and the stack say; run 'plan' again"
        )


def _check_reverts(dep: Deployment, plan: Plan) -> None:
    """A revert-drift plan: each nested stack's drift-aware change set is still there to run."""
    for revert in plan.reverts:
        try:
            described = dep.cfn.change_set(revert["change_set_id"])
        except ClientError as exc:
            if classify(exc) in (AwsErrorKind.CHANGE_SET_NOT_FOUND, AwsErrorKind.STACK_NOT_FOUND):
                raise StalePlanError(
                    f"the drift-aware change set on {revert['stack']} no longer exists; run "
                    "'plan --revert-drift' again"
                ) from None
            raise
        if described.execution is not ExecutionStatus.AVAILABLE:
            raise StalePlanError(
                f"the drift-aware change set on {revert['stack']} is {described.execution} (the "
                "stack moved on); run 'plan --revert-drift' again"
            )
