"""`bootstrap`, `plan`, `apply`, `outputs`, `status`, `destroy`, `rotate-nonce`."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rich.text import Text

from mirror_infra import ui
from mirror_infra.aws.status import StackStatus
from mirror_infra.errors import Aborted, ExitCode, LintError


def _open(args: argparse.Namespace):
    from mirror_infra.deploy.context import Deployment

    dep = Deployment.open(args.env, args.region, args.local, args.profile)
    ui.err.print(Text.assemble((dep.stack_name, "bold"), f" on {dep.target.describe()}"))
    return dep


# --- bootstrap ---------------------------------------------------------------------------


def run_bootstrap(args: argparse.Namespace) -> ExitCode:
    from mirror_infra.deploy.bootstrap import bootstrap

    dep = _open(args)
    result = bootstrap(dep.target)
    ui.out.print(f"artifacts bucket {result.bucket}: {result.action}")
    return ExitCode.OK


# --- plan --------------------------------------------------------------------------------


def _prepare(dep):
    """Build, lint, upload: everything a change set needs, with no stack touched."""
    from mirror_infra.build import build
    from mirror_infra.deploy.bootstrap import artifacts_bucket
    from mirror_infra.deploy.package import upload_nested
    from mirror_infra.lint import Linter, ignored_rules, lint_files

    result = build(dep.cfg.name)
    regions = sorted({dep.cfg.region, *dep.cfg.test_regions, dep.target.region})
    findings = lint_files(result.files, Linter(regions, ignored_rules()), result.directory.parent)
    if findings:
        for finding in findings:
            ui.err.print(str(finding), markup=False)
        raise LintError(f"cfn-lint reported {len(findings)} finding(s); fix them before deploying")
    bucket = artifacts_bucket(dep.target)
    uploads = upload_nested(dep.target.client("s3"), bucket, dep.artifacts_prefix, result)
    fresh = sum(u.uploaded for u in uploads)
    ui.err.print(
        f"templates: {len(result.files)} built, lint clean, {fresh} uploaded, "
        f"{len(uploads) - fresh} already in s3://{bucket}/{dep.artifacts_prefix}"
    )
    return result, bucket


def show_plan(plan) -> None:
    from mirror_infra.deploy.plan import Risk

    if plan.note:
        ui.out.print(plan.note)
    if not plan.changes:
        return
    rows = [
        [
            c.action,
            "  " * c.depth + c.logical_id,
            c.resource_type,
            c.replacement,
            ", ".join(c.properties) + (f"if {c.condition}" if c.condition else ""),
            c.risk.value if c.risk is Risk.SAFE else ui.styled(c.risk.value, "bold red"),
        ]
        for c in plan.changes
    ]
    table = ui.table(
        f"Changes to {plan.stack_name} ({'create' if plan.create else 'update'})",
        ["Action", "Logical ID", "Type", "Replacement", "Properties", "Risk"],
        rows,
    )
    ui.out.print(table)
    counts = {a: sum(c.action == a for c in plan.changes) for a in ("Add", "Modify", "Remove")}
    destructive = len(plan.destructive())
    ui.out.print(
        f"{counts['Add']} to add, {counts['Modify']} to modify, {counts['Remove']} to remove; "
        f"{destructive} would replace or delete data"
    )
    if plan.create:
        ui.out.print(
            "after the stack: the redaction nonce is created in SSM if missing "
            "(never overwritten, never printed)"
        )


def _plan_json(plan) -> dict:
    from dataclasses import asdict

    data = asdict(plan)
    data["destructive"] = [c.qualified_id for c in plan.destructive()]
    return data


def run_plan(args: argparse.Namespace) -> ExitCode:
    from mirror_infra.deploy import apply as applying
    from mirror_infra.deploy import plan as planning

    dep = _open(args)
    applying.wait_if_busy(dep)
    result, bucket = _prepare(dep)
    plan = planning.create_plan(dep, result, bucket)
    plan.allowed = sorted(args.allow_replace)
    outside = applying.pending_finish(dep)
    if args.json:
        ui.print_json({**_plan_json(plan), "outside_cloudformation": outside})
    else:
        show_plan(plan)
        for item in outside:
            ui.out.print(f"outside CloudFormation, apply will {item}")
    if not plan.has_changes and not plan.note and not outside:
        ui.err.print("No changes.")
        return ExitCode.OK
    try:
        planning.refuse_destructive(plan, set(args.allow_replace))
    except Exception:
        planning.discard(dep, plan)
        raise
    if args.out and plan.note:
        from mirror_infra.errors import DeployError

        raise DeployError(
            f"no plan saved to {args.out}: there is no change set to save while "
            f"{dep.stack_name} is ROLLBACK_COMPLETE; run 'mirror-infra apply', which deletes "
            "the failed stack first"
        )
    if args.out:
        plan.save(Path(args.out))
        ui.err.print(f"plan saved to {args.out}; run 'mirror-infra apply --plan {args.out}'")
    else:
        planning.discard(dep, plan)
    return ExitCode.CHANGES


# --- apply -------------------------------------------------------------------------------


class EventPrinter:
    """Prints each stack event as one line, with a count of finished resources."""

    def __init__(self, total: int) -> None:
        self.started = time.monotonic()
        self.total = total
        self.done: set[str] = set()

    def __call__(self, event) -> None:
        from mirror_infra.aws.status import is_failure

        if (
            event.status.endswith("_COMPLETE")
            and event.resource_type != "AWS::CloudFormation::Stack"
        ):
            self.done.add(event.qualified_id)
        colour = (
            "red"
            if is_failure(event.status)
            else ("green" if event.status.endswith("_COMPLETE") else "")
        )
        progress = f"{len(self.done)}/{self.total}" if self.total else str(len(self.done))
        reason = f"  {event.reason}" if event.reason and is_failure(event.status) else ""
        # assembled as Text: stack events carry brackets ("[ConsentTable]") that are not markup
        ui.err.print(
            Text.assemble(
                f"{time.monotonic() - self.started:6.1f}s [{progress:>7}] "
                f"{event.qualified_id:<40} {event.resource_type:<32} ",
                (event.status, colour),
                reason,
            ),
            highlight=False,
        )


def _follow(dep, execution, printer) -> object:
    """Follow the operation; Ctrl-C asks whether to cancel it or detach."""
    while True:
        try:
            return execution.follow(printer)
        except KeyboardInterrupt:
            choice = _ask_cancel_or_detach()
            if choice == "cancel":
                ui.err.print(execution.cancel())
                continue
            ui.err.print(
                f"detached: {dep.stack_name} goes on in AWS; follow it with "
                f"'mirror-infra status --env {dep.cfg.name}'"
            )
            raise Aborted("detached from the running operation; it was not cancelled") from None


def _ask_cancel_or_detach() -> str:
    if not sys.stdin.isatty():
        return "detach"
    try:
        answer = input("\nCancel the update (it rolls back) or detach and leave it running? [c/D] ")
    except (EOFError, KeyboardInterrupt):
        return "detach"
    return "cancel" if answer.strip().lower() in ("c", "cancel") else "detach"


def _report_failure(dep, finished) -> None:
    from mirror_infra.errors import DeployError

    cause = finished.root_cause
    where = f" in {cause.stack} stack" if cause and cause.stack else ""
    if cause:
        ui.err.print(
            Text.assemble(
                (f"root cause{where}:", "red"),
                f" {cause.logical_id} ({cause.resource_type}) {cause.status}: {cause.reason}",
            ),
            highlight=False,
        )
    raise DeployError(
        f"{dep.stack_name} ended {finished.status}"
        + (f": {cause.logical_id} {cause.status}: {cause.reason}" if cause else "")
        + ("; the stack rolled back" if finished.status.rolled_back else "")
    )


def _print_outputs(outputs: dict[str, str]) -> None:
    from templates_src.root import SEED_OUTPUTS

    rows = [[seed, outputs.get(key, "")] for seed, key in SEED_OUTPUTS.items()]
    ui.out.print(ui.table("Outputs", ["Output", "Value"], rows))


def run_apply(args: argparse.Namespace) -> ExitCode:
    from mirror_infra.build import build
    from mirror_infra.deploy import apply as applying
    from mirror_infra.deploy import plan as planning

    dep = _open(args)
    allowed = set(args.allow_replace)
    if args.continue_rollback:
        execution = applying.continue_rollback(dep, args.skip_resource)
        finished = _follow(dep, execution, EventPrinter(0))
        ui.err.print(f"{dep.stack_name}: {finished.status}")
        return ExitCode.OK if finished.status.rolled_back else ExitCode.ERROR

    if args.plan:
        plan = planning.Plan.load(Path(args.plan))
        planning.check_fresh(dep, plan, build(dep.cfg.name))
        show_plan(plan)
    else:
        info = applying.wait_if_busy(dep)
        if info is not None and info.status is StackStatus.ROLLBACK_COMPLETE:
            ui.err.print(
                f"{dep.stack_name} is ROLLBACK_COMPLETE from a failed first create; "
                "deleting it before creating again"
            )
            applying.delete_failed_create(dep, EventPrinter(0))
        result, bucket = _prepare(dep)
        plan = planning.create_plan(dep, result, bucket)
        show_plan(plan)
    if plan.has_changes:
        try:
            planning.refuse_destructive(plan, allowed)
            if (
                not args.plan
                and not args.yes
                and not ui.confirm(f"Apply these changes to {dep.stack_name}?")
            ):
                raise Aborted("nothing applied; pass --yes to apply without asking")
        except Exception:
            if not args.plan:
                planning.discard(dep, plan)
            raise
        execution = applying.start(dep, plan, allowed)
        resources = [
            c
            for c in plan.changes
            if c.resource_type != "AWS::CloudFormation::Stack" and not c.condition
        ]
        try:
            finished = _follow(dep, execution, EventPrinter(len(resources)))
        finally:
            if plan.destructive():
                applying.restore_stack_policies(dep)
        if not finished.ok:
            _report_failure(dep, finished)
        ui.err.print(f"{dep.stack_name}: {finished.status} ({finished.events} events)")
    else:
        ui.err.print("No changes to the stacks.")
    done = applying.finish(dep)
    kept = "created" if done.nonce_created else "kept (never overwritten)"
    ui.err.print(
        f"nonce {done.nonce_name}: {kept}; "
        f"stack policies on {done.policies} stack(s); termination protection "
        f"{'on' if done.termination_protection else 'off'}"
    )
    _print_outputs(done.outputs)
    return ExitCode.OK


# --- outputs / status ---------------------------------------------------------------------


def _deployed(dep):
    from mirror_infra.deploy import stacks
    from mirror_infra.errors import DeployError

    info = stacks.describe(dep.cfn, dep.stack_name)
    if info is None or not info.outputs:
        state = "does not exist" if info is None else f"is {info.status} with no outputs"
        raise DeployError(
            f"{dep.stack_name} {state} in {dep.target.region}; run 'mirror-infra apply' first"
        )
    return info


def run_outputs(args: argparse.Namespace) -> ExitCode:
    from templates_src.root import SEED_OUTPUTS

    dep = _open(args)
    info = _deployed(dep)
    outputs = {seed: info.outputs.get(key, "") for seed, key in SEED_OUTPUTS.items()}
    if args.json:
        ui.print_json(outputs)
    else:
        _print_outputs(info.outputs)
    return ExitCode.OK


def run_status(args: argparse.Namespace) -> ExitCode:
    from mirror_infra.deploy import nonce, stacks

    dep = _open(args)
    info = stacks.describe(dep.cfn, dep.stack_name)
    if info is None:
        data = {"stack": dep.stack_name, "status": "NOT_DEPLOYED"}
        rows = []
    else:
        tree = stacks.stack_tree(dep.cfn, info.stack_id)
        nested = {
            (f"{path}.{r.logical_id}" if path else r.logical_id): r.status
            for path, (_, found) in tree.items()
            for r in found
            if r.resource_type == "AWS::CloudFormation::Stack"
        }
        versions = nonce.versions(dep.target.client("ssm"), dep.names)
        data = {
            "stack": dep.stack_name,
            "status": info.status.value,
            "reason": info.reason,
            "last_updated": info.last_updated,
            "termination_protection": info.termination_protection,
            "nested_stacks": nested,
            "nonce_versions": [v.name for v in versions],
        }
        rows = [[name, status] for name, status in nested.items()]
    if args.json:
        ui.print_json(data)
        return ExitCode.OK
    ui.out.print(f"{dep.stack_name}: {data['status']}")
    if rows:
        ui.out.print(
            f"last updated {data['last_updated']}; termination protection "
            f"{'on' if data['termination_protection'] else 'off'}; "
            f"nonce versions: {len(data['nonce_versions'])}"
        )
        ui.out.print(ui.table("Nested stacks", ["Stack", "Status"], rows))
    return ExitCode.OK


# --- destroy / rotate-nonce ---------------------------------------------------------------


def run_destroy(args: argparse.Namespace) -> ExitCode:
    from mirror_infra.deploy import destroy
    from mirror_infra.deploy.apply import Execution

    dep = _open(args)
    teardown = destroy.survey(dep)
    if teardown is None:
        versions = destroy.nonce_versions(dep) if args.delete_nonce else []
        if not versions:
            ui.out.print(f"{dep.stack_name} does not exist; nothing to destroy")
            return ExitCode.OK
        ui.out.print(
            f"{dep.stack_name} does not exist; --delete-nonce deletes {len(versions)} nonce "
            f"version(s): {', '.join(versions)}"
        )
        _confirm_destroy(dep, args, f"Delete {dep.cfg.name}'s nonce versions?")
        gone = destroy.delete_nonce(dep)
        ui.out.print(f"deleted {len(gone)} nonce version(s)")
        return ExitCode.OK
    ui.out.print(
        ui.table(
            f"Deleted by destroy ({len(teardown.deleted)})",
            ["Resource", "Type", "Physical ID", "Note"],
            [[i.qualified_id, i.resource_type, i.physical_id, i.why] for i in teardown.deleted],
        )
    )
    retained = [[i.qualified_id, i.resource_type, i.physical_id, i.why] for i in teardown.retained]
    retained += [
        [n, "SSM SecureString", n, "deleted only with --delete-nonce"]
        for n in teardown.nonce_versions
        if not args.delete_nonce
    ]
    ui.out.print(
        ui.table(
            f"Retained ({len(retained)})", ["Resource", "Type", "Physical ID", "Why"], retained
        )
    )
    if args.delete_nonce and teardown.nonce_versions:
        ui.out.print(
            f"also deleted: {len(teardown.nonce_versions)} nonce version(s) (--delete-nonce)"
        )
    destroy.check_can_delete(dep, teardown)
    _confirm_destroy(dep, args, f"Destroy {dep.stack_name}?")
    execution = Execution(dep, teardown.stack_id)
    dep.cfn.delete_stack(StackName=teardown.stack_id)
    finished = _follow(dep, execution, EventPrinter(len(teardown.deleted)))
    if finished.status is not StackStatus.DELETE_COMPLETE:
        _report_failure(dep, finished)
    ui.out.print(f"{dep.stack_name} deleted; {len(teardown.retained)} resource(s) retained")
    if args.delete_nonce:
        gone = destroy.delete_nonce(dep)
        ui.out.print(f"deleted {len(gone)} nonce version(s)")
    return ExitCode.OK


def _confirm_destroy(dep, args: argparse.Namespace, question: str) -> None:
    """The one confirmation rule of every deletion: a protected environment (production, or
    termination protection in its params) needs its name typed or --confirm-env; any other
    needs --yes or a yes on the terminal."""
    env = dep.cfg.name
    if env == "production" or dep.cfg.data_safety.termination_protection:
        if args.confirm_env != env and not ui.confirm(question, expected=env):
            raise Aborted(
                f"nothing deleted; {env} needs the typed confirmation (or --confirm-env {env})"
            )
    elif not args.yes and not ui.confirm(question):
        raise Aborted("nothing deleted; pass --yes to delete without asking")


def run_rotate_nonce(args: argparse.Namespace) -> ExitCode:
    from mirror_infra.deploy import nonce

    dep = _open(args)
    info = _deployed(dep)
    if not args.yes and not ui.confirm(f"Add a new nonce version for {dep.cfg.name}?"):
        raise Aborted("no nonce added; pass --yes to add one without asking")
    name = nonce.rotate(dep.target.client("ssm"), dep.names, info.outputs["KmsKeyArn"])
    ui.out.print(f"added {name}; older versions are unchanged")
    return ExitCode.OK


def register(sub, common) -> None:
    p = sub.add_parser(
        "bootstrap",
        parents=[common(change_state=True)],
        help="create or check the regional artifacts bucket",
    )
    p.set_defaults(handler=run_bootstrap)

    allow = argparse.ArgumentParser(add_help=False)
    allow.add_argument(
        "--allow-replace",
        action="append",
        default=[],
        metavar="LOGICAL_ID",
        help="accept replacing or deleting this resource's data (repeatable; "
        "plain or Stack.LogicalId)",
    )

    p = sub.add_parser(
        "plan",
        parents=[common(read_state=True), allow],
        help="show what apply would change (change set, nested included)",
    )
    p.add_argument("--out", metavar="FILE", help="save the plan for 'apply --plan FILE'")
    p.set_defaults(handler=run_plan)

    p = sub.add_parser(
        "apply",
        parents=[common(change_state=True), allow],
        help="execute a saved plan, or plan and ask first",
    )
    p.add_argument("--plan", metavar="FILE", help="a plan saved by 'plan --out'")
    p.add_argument(
        "--continue-rollback",
        action="store_true",
        help="continue a rollback that ended UPDATE_ROLLBACK_FAILED",
    )
    p.add_argument(
        "--skip-resource",
        action="append",
        default=[],
        metavar="LOGICAL_ID",
        help="with --continue-rollback: a resource to skip (repeatable)",
    )
    p.set_defaults(handler=run_apply)

    p = sub.add_parser("outputs", parents=[common(read_state=True)], help="the eight outputs")
    p.set_defaults(handler=run_outputs)

    p = sub.add_parser("status", parents=[common(read_state=True)], help="stack status")
    p.set_defaults(handler=run_status)

    p = sub.add_parser(
        "destroy",
        parents=[common(change_state=True)],
        help="delete the environment (says what is retained)",
    )
    p.add_argument("--delete-nonce", action="store_true", help="also delete every nonce version")
    p.add_argument(
        "--confirm-env",
        metavar="ENV",
        help="non-interactive typed confirmation (required for production)",
    )
    p.set_defaults(handler=run_destroy)

    p = sub.add_parser(
        "rotate-nonce", parents=[common(change_state=True)], help="add the next nonce version"
    )
    p.set_defaults(handler=run_rotate_nonce)
