"""A saved plan is applied only while it still describes what would happen: refused when the
environment, the region, the templates, the stack or its change sets have moved on, when the
rows a person reviewed are no longer the change set's own, or when any field that names the
target (env, region, account, endpoint, stack, change set, parameters, express mode) is not
this target's: an edited plan is refused, never trusted."""

from __future__ import annotations

import tempfile
from pathlib import Path

from botocore.exceptions import ClientError

from mirror_infra.aws.cfn_answers import ChangeSet, StackInfo
from mirror_infra.aws.errors import AwsErrorKind, classify
from mirror_infra.aws.status import ExecutionStatus, StackStatus
from mirror_infra.build import BuildResult
from mirror_infra.deploy import protection
from mirror_infra.deploy.changes import expand_new_stacks, judge_in_place, read_changes, row_keys
from mirror_infra.deploy.context import Deployment
from mirror_infra.deploy.plan import Plan, template_hashes
from mirror_infra.errors import StalePlanError


def mismatch(field: str, saved: object, actual: object, advice: str = "run 'plan' again"):
    """The one line for a saved plan that names another target than this one."""
    return StalePlanError(
        f"the plan's {field} is {saved!r}, but here it is {actual!r} (the file was edited or "
        f"is for another target); {advice}"
    )


def _check_target(dep: Deployment, plan: Plan, info: StackInfo | None) -> None:
    """Every field of the plan that names its target is this target's."""
    where = "pass the matching --env/--region"
    for name, actual, advice in (
        ("env", dep.cfg.name, where),
        ("region", dep.target.region, where),
        ("account", dep.target.account_id, "run 'plan' again with that account's credentials"),
        ("endpoint", dep.target.endpoint_url or "", "run 'plan' again against this endpoint"),
        ("stack_name", dep.stack_name, "run 'plan' again"),
    ):
        if getattr(plan, name) != actual:
            raise mismatch(name, getattr(plan, name), actual, advice)
    # a stack gone since is the stale case below (its change set went with it)
    if info is not None and plan.stack_id != info.stack_id:
        raise mismatch("stack_id", plan.stack_id, info.stack_id)
    # an update plan on a stack awaiting its first create (a create plan on a created stack
    # is the stale case below)
    if not plan.create and info is not None and info.status is StackStatus.REVIEW_IN_PROGRESS:
        raise mismatch("create", plan.create, True)


def _check_derived(dep: Deployment, plan: Plan, build: BuildResult) -> None:
    """What the plan holds that the target and params decide: the root's parameters (the
    artifacts bucket names account and region) and what a first create protects after."""
    from mirror_infra.deploy.bootstrap import artifacts_bucket
    from mirror_infra.deploy.first_create import unprotected
    from mirror_infra.deploy.plan import root_parameters

    wanted = root_parameters(dep, artifacts_bucket(dep.target), build)
    for key in sorted(set(wanted) | set(plan.parameters)):
        if plan.parameters.get(key) != wanted.get(key):
            raise mismatch(f"parameters.{key}", plan.parameters.get(key), wanted.get(key))
    if plan.create:
        with tempfile.TemporaryDirectory(prefix="mirror-infra-") as scratch:
            variant = unprotected(build, Path(scratch))
            tables = variant.restored_after if variant else []
        if plan.protect_after != tables:
            raise mismatch("protect_after", plan.protect_after, tables)
    elif plan.protect_after:
        raise mismatch("protect_after", plan.protect_after, [])


def check_fresh(dep: Deployment, plan: Plan, build: BuildResult) -> ChangeSet | None:
    """Refuse a saved plan when it names another target, or when the stack, the templates or
    the change set have moved on. Reads only."""
    info = dep.cfn.stack(dep.stack_name)
    _check_target(dep, plan, info)
    if template_hashes(build) != plan.template_hashes:
        raise StalePlanError(
            "the templates in build/ changed since the plan was made; run 'plan' again"
        )
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
        return _check_reverts(dep, plan, info)
    _check_derived(dep, plan, build)
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
    if described.stack_id != info.stack_id:  # an ARN of another stack's change set
        raise mismatch("change_set_id", plan.change_set_id, f"a change set of {info.stack_id}")
    # the mode is the change set's own (DeploymentConfig, which an editor cannot change): a
    # plan edited out of express mode would skip the rule production has for it
    if described.express != plan.express:
        raise mismatch("express", plan.express, described.express)
    if described.execution is not ExecutionStatus.AVAILABLE:
        raise StalePlanError(
            f"the plan's change set is {described.execution} (the stack moved on); run 'plan' again"
        )
    # the rows a person reviewed must be the change set's own: read and judge them again
    fresh = judge_in_place(
        dep.cfn,
        expand_new_stacks(read_changes(dep.cfn, described, build=build), build, plan.parameters),
        build,
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


def _check_reverts(dep: Deployment, plan: Plan, info: StackInfo) -> None:
    """A revert-drift plan: each nested stack's drift-aware change set is still there to run,
    on that nested stack of this environment's root."""
    nested = {node.path: node.stack_id for node in dep.cfn.tree(info.stack_id) if node.path}
    for revert in plan.reverts:
        if nested.get(revert["stack"]) != revert["stack_id"]:
            raise mismatch(
                f"reverts stack_id of {revert['stack']}",
                revert["stack_id"],
                nested.get(revert["stack"], "no such nested stack"),
            )
        try:
            described = dep.cfn.change_set(revert["change_set_id"])
        except ClientError as exc:
            if classify(exc) in (AwsErrorKind.CHANGE_SET_NOT_FOUND, AwsErrorKind.STACK_NOT_FOUND):
                raise StalePlanError(
                    f"the drift-aware change set on {revert['stack']} no longer exists; run "
                    "'plan --revert-drift' again"
                ) from None
            raise
        if described.stack_id != revert["stack_id"]:
            raise mismatch(
                f"reverts change_set_id of {revert['stack']}",
                revert["change_set_id"],
                f"a change set of {described.stack_id}",
            )
        if described.execution is not ExecutionStatus.AVAILABLE:
            raise StalePlanError(
                f"the drift-aware change set on {revert['stack']} is {described.execution} (the "
                "stack moved on); run 'plan --revert-drift' again"
            )
