"""`mirror-infra apply`: execute a saved plan, or plan and ask first; follow the stacks' events;
then finish the environment (nonce, stack policies, termination protection)."""

from __future__ import annotations

import argparse
from pathlib import Path

from mirror_infra import render, ui
from mirror_infra.commands.common import (
    adopt_and_show,
    allow_parser,
    express_parser,
    hooks,
    live_view,
    open_deployment,
    show_failure,
)
from mirror_infra.errors import ApplyFailed, ConfigError, ExitCode


def run(args: argparse.Namespace) -> ExitCode:
    from mirror_infra.adopt.saved import is_survey
    from mirror_infra.aws.cfn_answers import NESTED_STACK
    from mirror_infra.deploy import flow

    if args.skip_resource and not args.continue_rollback:
        raise ConfigError("--skip-resource goes with --continue-rollback")
    if args.json and not (args.yes or args.plan or args.continue_rollback):
        raise ConfigError("--json asks nothing: add --yes, or apply a saved plan with --plan")
    if args.plan and is_survey(Path(args.plan)):
        if args.json:
            raise ConfigError(
                f"--plan {args.plan} is an adopt survey, which has no JSON output; run it "
                "without --json"
            )
        return adopt_and_show(args)  # a survey saved by 'adopt --out' runs as adopt --plan does
    dep = open_deployment(args)
    allowed = set(args.allow_replace)
    if args.continue_rollback:
        finished = flow.continue_rollback(dep, args.skip_resource, hooks())
        ui.err.print(f"{dep.stack_name}: {finished.status}")
        return ExitCode.OK if finished.status.rolled_back else ExitCode.ERROR

    printer = render.EventPrinter(0)
    live = live_view() if not args.json else None

    def shown(plan) -> None:
        if args.json:
            render.json_line("plan", **render.plan_json(plan))
            return
        render.plan(plan)
        counted = [c for c in plan.changes if c.resource_type != NESTED_STACK and not c.condition]
        printer.total = len(counted)
        if live is not None:
            for c in counted:
                live.totals[c.stack] = live.totals.get(c.stack, 0) + 1

    def confirm(plan) -> bool:
        return args.yes or ui.confirm(f"Apply these changes to {dep.stack_name}?")

    saved = flow.load_plan(dep, Path(args.plan)) if args.plan else None
    try:
        applied = flow.apply(
            dep,
            allowed,
            hooks(
                on_event=render.event_json if args.json else (live or printer),
                on_plan=shown,
                confirm=confirm,
            ),
            plan=saved,
        )
    except ApplyFailed as failed:
        show_failure(failed, live, args.json)
        raise
    if live is not None:
        live.close()
    if applied.finished is None:
        ui.err.print("No changes to the stacks.")
    else:
        finished = applied.finished
        ui.err.print(f"{dep.stack_name}: {finished.status} ({finished.events} events)")
    done = applied.finish
    if done.outputs.nonce_note:
        ui.err.print(done.outputs.nonce_note, markup=False)
    if args.json:
        render.json_line("outcome", **render.apply_outcome(applied))
        return ExitCode.OK
    kept = "created" if done.nonce_created else "kept (never overwritten)"
    ui.err.print(
        f"nonce {done.nonce_name}: {kept}; "
        f"stack policies on {done.policies} stack(s); termination protection "
        f"{'on' if done.termination_protection else 'off'}"
    )
    render.outputs(done.outputs.values)
    return ExitCode.OK


def register(sub, common) -> None:
    p = sub.add_parser(
        "apply",
        parents=[common(change_state=True), allow_parser(), express_parser()],
        help="execute a saved plan, or plan and ask first",
    )
    p.add_argument("--plan", metavar="FILE", help="a plan saved by 'plan --out'")
    p.add_argument(
        "--json",
        action="store_true",
        help="JSON lines on stdout: the plan, one object per stack event, the outcome "
        "(asks nothing: needs --yes or --plan)",
    )
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
    p.set_defaults(handler=run)
