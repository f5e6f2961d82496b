"""The deploy flow, once: prepare (build, lint, upload) → plan → apply → finish.

The CLI, the upgrade tests and adopt all call these functions, so all get lint, the wait for
an operation already running, the recovery of a failed first create, the destructive-change
refusal and the stack-policy restore. Every change set a flow makes is executed, kept (a
saved plan) or deleted on every way out of it (`change_sets.owned`). What a person sees or
answers (events, confirmation, Ctrl-C) comes in through `Hooks`; this module prints nothing.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from mirror_infra.aws.status import StackStatus
from mirror_infra.build import BuildResult
from mirror_infra.deploy import (
    change_sets,
    express,
    finishing,
    first_create,
    protection,
    revert,
    stale,
)
from mirror_infra.deploy import operation as operating
from mirror_infra.deploy import plan as planning
from mirror_infra.deploy.context import Deployment
from mirror_infra.deploy.events import Event
from mirror_infra.deploy.package import upload_nested
from mirror_infra.errors import Aborted, ApplyFailed, ConfigError, DeployError, Detached, LintError

# a change set on a stack in these states (or none) creates the environment
CREATES = (StackStatus.REVIEW_IN_PROGRESS, StackStatus.ROLLBACK_COMPLETE)


class OnInterrupt(StrEnum):
    """What Ctrl-C during a running operation does."""

    CANCEL = "cancel"  # CancelUpdateStack: an update rolls back
    DETACH = "detach"  # leave it running in AWS


@dataclass
class Hooks:
    """How the flow talks to whoever runs it (the CLI, a test run)."""

    on_event: Callable[[Event], None] = lambda event: None
    say: Callable[[str], None] = lambda line: None
    # shown each plan about to be applied (saved or made in this run)
    on_plan: Callable[[planning.Plan], None] = lambda plan: None
    # plan: shown the plan and what apply would do besides, before it is refused or saved
    on_planned: Callable[[Planned], None] = lambda planned: None
    # asked before a plan made in this run is executed; False aborts
    confirm: Callable[[planning.Plan], bool] = lambda plan: True
    on_interrupt: Callable[[], OnInterrupt] = lambda: OnInterrupt.DETACH
    # each lint finding, before LintError is raised
    on_finding: Callable[[str], None] = lambda finding: None


@dataclass(frozen=True)
class Prepared:
    build: BuildResult
    bucket: str


@dataclass
class Planned:
    """What `plan` shows: the plan, what apply would change outside CloudFormation, and what
    a person will notice."""

    plan: planning.Plan
    outside: list[str]
    notices: list[str]
    saved: Path | None = None
    # the command that applies the saved plan as it stands, with the confirmation an express
    # plan of a protected environment needs, so that it runs as printed
    apply_command: str = ""

    @property
    def changes_anything(self) -> bool:
        return self.plan.has_changes or bool(self.plan.note) or bool(self.outside)


@dataclass
class Applied:
    plan: planning.Plan
    finished: operating.Finished | None  # None: nothing to execute
    finish: finishing.Finish | None = None  # None when the operation failed
    nonce_created: list[str] = field(default_factory=list)


def prepare(dep: Deployment, hooks: Hooks, built: BuildResult | None = None) -> Prepared:
    """Build (unless `built` is given), lint, upload: all a change set needs, no stack touched."""
    from mirror_infra.build import build
    from mirror_infra.deploy.bootstrap import artifacts_bucket
    from mirror_infra.lint import Linter, ignored_rules, lint_files

    result = built or build(dep.cfg.name)
    regions = sorted({dep.cfg.region, *dep.cfg.test_regions, dep.target.region})
    findings = lint_files(result.files, Linter(regions, ignored_rules()), result.directory.parent)
    if findings:
        for finding in findings:
            hooks.on_finding(str(finding))
        raise LintError(f"cfn-lint reported {len(findings)} finding(s); fix them before deploying")
    bucket = artifacts_bucket(dep.target)
    uploads = upload_nested(dep.s3, bucket, dep.artifacts_prefix, result)
    fresh = sum(u.uploaded for u in uploads)
    hooks.say(
        f"templates: {len(result.files)} built, lint clean, {fresh} uploaded, "
        f"{len(uploads) - fresh} already in s3://{bucket}/{dep.artifacts_prefix}"
    )
    return Prepared(result, bucket)


def make_plan(
    dep: Deployment, allowed: set[str], hooks: Hooks, built: BuildResult | None = None
) -> planning.Plan:
    """Wait out a running operation, prepare, and create the change set (in the ledger of
    the flow that calls this)."""
    from mirror_infra.build import build

    info = operating.wait_if_busy(dep)
    built = built or build(dep.cfg.name)
    planning.check_named(allowed, built, dep)
    creating = info is None or info.status in CREATES
    finishing.refuse_unusable_nonce(dep, info, creating)  # before anything is uploaded or made
    prepared = prepare(dep, hooks, built)
    with tempfile.TemporaryDirectory(prefix="mirror-infra-") as scratch:
        variant = first_create.unprotected(built, Path(scratch)) if creating else None
        if variant is None:
            plan = planning.create_plan(dep, built, prepared.bucket)
        else:
            upload_nested(dep.s3, prepared.bucket, dep.artifacts_prefix, variant.build)
            plan = planning.create_plan(dep, variant.build, prepared.bucket)
            plan.template_hashes = planning.template_hashes(built)  # what 'apply' checks
            plan.protect_after = variant.restored_after
            plan.note = "; ".join(filter(None, [plan.note, first_create.note(variant)]))
    if plan.express:
        plan.note = "; ".join(filter(None, [plan.note, express.NOTE]))
    plan.changes += protection.guard_rows(dep)  # guards params turn off: refused unless named
    plan.allowed = sorted(allowed)
    return plan


def load_plan(dep: Deployment, path, built: BuildResult | None = None) -> planning.Plan:
    """A saved plan, refused unless the stack and the templates are still as planned."""
    from mirror_infra.build import build

    plan = planning.Plan.load(path)
    built = built or build(dep.cfg.name)
    stale.check_fresh(dep, plan, built)
    return plan


def plan(
    dep: Deployment,
    allowed: set[str],
    hooks: Hooks,
    revert_drift: bool = False,
    out: Path | None = None,
) -> Planned:
    """`plan`, start to finish: make the change set(s), show them (`hooks.on_planned`), refuse
    what replaces, deletes or loses data unnamed, and save the plan to `out` or delete its
    change sets; nothing this makes is left behind on any way out."""
    with change_sets.owned(dep, hooks.say) as ledger:
        making = revert_plan if revert_drift else make_plan
        made = making(dep, allowed, hooks)
        planned = Planned(made, finishing.pending_finish(dep), planning.notices(dep, made))
        hooks.on_planned(planned)
        if not planned.changes_anything:
            return planned
        planning.refuse_destructive(made, allowed)
        if out is None:
            return planned  # its change sets go with the ledger
        if made.create and made.change_set_id is None:
            raise DeployError(
                f"no plan saved to {out}: there is no change set to save while "
                f"{dep.stack_name} is ROLLBACK_COMPLETE; run '{dep.tool_command('apply')}', which "
                "deletes the failed stack first"
            )
        try:
            made.save(out)
        except OSError as exc:  # a full disk cannot be foreseen: leave nothing behind
            raise ConfigError(
                f"--out {out}: could not write the plan ({exc.strerror or exc}); its change "
                "set was deleted, nothing was applied"
            ) from None
        ledger.keep(made.change_set_id or "", *(r["change_set_id"] for r in made.reverts))
        planned.saved = out
        confirm = express.confirmation(dep.cfg, made.express)
        planned.apply_command = dep.tool_command("apply", "--plan", str(out), *confirm)
        return planned


def apply(
    dep: Deployment,
    allowed: set[str],
    hooks: Hooks,
    plan: planning.Plan | None = None,
    built: BuildResult | None = None,
) -> Applied:
    """Execute `plan` (saved, already checked fresh) or plan now and ask `hooks.confirm`; then
    follow the operation and finish the environment. Destructive changes not in `allowed` are
    refused before anything executes (and before anyone is asked); every change set made here
    is executed or deleted, whatever happens (an error, a refusal, Ctrl-C, SIGTERM)."""
    with change_sets.owned(dep, hooks.say):
        return _apply(dep, allowed, hooks, plan, built)


def _apply(
    dep: Deployment,
    allowed: set[str],
    hooks: Hooks,
    plan: planning.Plan | None,
    built: BuildResult | None,
) -> Applied:
    from mirror_infra.build import build

    saved = plan is not None
    if plan is not None and plan.express:  # a saved plan in express mode: the same rule
        express.check(dep.cfg, dep.confirmed_env)
    planning.check_named(allowed, built or build(dep.cfg.name), dep)  # before anything changes
    if not saved:
        info = operating.wait_if_busy(dep)
        if info is not None and info.status is StackStatus.ROLLBACK_COMPLETE:
            hooks.say(
                f"{dep.stack_name} is ROLLBACK_COMPLETE from a failed first create; "
                "deleting it before creating again"
            )
            operating.delete_failed_create(dep, hooks.on_event)
        plan = make_plan(dep, allowed, hooks, built)
    hooks.on_plan(plan)
    applied = Applied(plan, None)
    if plan.has_changes:
        # refused before anyone is asked to confirm what could not run anyway
        planning.refuse_destructive(plan, allowed)
        if not saved and not hooks.confirm(plan):
            raise Aborted("nothing applied; pass --yes to apply without asking")
        if plan.executes:  # not when its only rows are guards turned off (done by finish)
            applied.finished = execute(dep, plan, allowed, hooks)
        if plan.create and plan.protect_after:
            _protect_tables(dep, plan, hooks, built)
    applied.finish = finishing.finish(dep, hooks.say, allowed | set(plan.allowed))
    if applied.finish.nonce_created:
        applied.nonce_created.append(applied.finish.nonce_name)
    return applied


def revert_plan(
    dep: Deployment, allowed: set[str], hooks: Hooks, built: BuildResult | None = None
) -> planning.Plan:
    """plan --revert-drift: drift-aware change sets on the deployed templates (in the ledger
    of the flow that calls this)."""
    from mirror_infra.build import build

    operating.wait_if_busy(dep)
    built = built or build(dep.cfg.name)
    plan = planning.Plan(
        env=dep.cfg.name,
        region=dep.target.region,
        stack_name=dep.stack_name,
        change_set_id=None,
        create=False,
        changes=[],
        template_hashes=planning.template_hashes(built),
        parameters={},
        stack_last_updated=None,
        **planning.target_fields(dep),
    )
    revert.create(dep, plan)
    plan.allowed = sorted(allowed)
    return plan


def execute(
    dep: Deployment, plan: planning.Plan, allowed: set[str], hooks: Hooks
) -> operating.Finished:
    if plan.reverts:
        planning.refuse_destructive(plan, allowed)
        ended = revert.execute(dep, plan, lambda execution: follow(dep, execution, hooks))
        if not ended[-1].ok:
            raise ApplyFailed(failure_line(dep, ended[-1]), ended[-1], plan)
        return ended[-1]
    execution = operating.start(dep, plan, allowed)
    try:
        finished = follow(dep, execution, hooks)
    finally:
        if execution.lifted and not finishing.restore_stack_policies(dep):
            hooks.say(
                f"WARNING: the stack policies of {dep.stack_name} are still lifted for "
                f"{', '.join(sorted(execution.lifted))} while the operation "
                f"runs; '{dep.tool_command('apply')}' restores them once it has "
                "settled ('plan' and 'status' show it)"
            )
    if not finished.ok:
        raise ApplyFailed(failure_line(dep, finished), finished, plan)
    return finished


def _protect_tables(
    dep: Deployment, created: planning.Plan, hooks: Hooks, built: BuildResult | None
) -> None:
    """The update after a first create made on unprotected tables (`first_create`): the built
    templates, which turn deletion protection on. Should it fail, the environment is still
    finished (stack policies, termination protection), and the error says to apply again."""
    hooks.say(f"protecting {', '.join(created.protect_after)} against deletion")
    try:
        plan = make_plan(dep, set(), hooks, built)
        hooks.on_plan(plan)
        if plan.has_changes:
            execute(dep, plan, set(), hooks)  # refuses what replaces, deletes or loses data
    except DeployError as exc:
        finishing.finish(dep, hooks.say)
        raise DeployError(
            f"{dep.stack_name} was created, but deletion protection is not on yet for "
            f"{', '.join(created.protect_after)}: {exc}; run "
            f"'{dep.tool_command('apply')}' again to turn it on"
        ) from None


def follow(dep: Deployment, execution: operating.Execution, hooks: Hooks) -> operating.Finished:
    """Follow the operation to its end; Ctrl-C asks `hooks.on_interrupt` to cancel or detach."""
    while True:
        try:
            return execution.follow(hooks.on_event)
        except KeyboardInterrupt:
            if hooks.on_interrupt() is OnInterrupt.CANCEL:
                hooks.say(execution.cancel())
                continue
            hooks.say(
                f"detached: {dep.stack_name} goes on in AWS; follow it with "
                f"'{dep.tool_command('status')}'"
            )
            raise Detached("detached from the running operation; it was not cancelled") from None


def failure_line(dep: Deployment, finished: operating.Finished) -> str:
    cause = finished.root_cause
    return (
        f"{dep.stack_name} ended {finished.status}"
        + (f": {cause.logical_id} {cause.status}: {cause.reason}" if cause else "")
        + ("; the stack rolled back" if finished.status.rolled_back else "")
    )


def continue_rollback(dep: Deployment, skip: list[str], hooks: Hooks) -> operating.Finished:
    return follow(dep, operating.continue_rollback(dep, skip), hooks)


def delete_confirmed(dep: Deployment, stack_id: str, hooks: Hooks) -> operating.Finished:
    """Delete the stack `stack_id` and follow it; only `destroy.run`, which has had the
    deletion confirmed, calls this."""
    execution = operating.Execution(dep, stack_id)
    execution.begin(lambda token: dep.cfn.delete(stack_id, token))
    finished = follow(dep, execution, hooks)
    if finished.status is not StackStatus.DELETE_COMPLETE:
        raise ApplyFailed(failure_line(dep, finished), finished)
    return finished
