"""`mirror-infra plan`: the change set (nested included) and what apply would change outside
CloudFormation; exit 2 when there is anything to apply."""

from __future__ import annotations

import argparse
from pathlib import Path

from mirror_infra import render, ui
from mirror_infra.commands.common import allow_parser, hooks, open_deployment
from mirror_infra.errors import DeployError, ExitCode


def run(args: argparse.Namespace) -> ExitCode:
    from mirror_infra.deploy import apply as applying
    from mirror_infra.deploy import flow
    from mirror_infra.deploy import plan as planning

    dep = open_deployment(args)
    plan = flow.make_plan(dep, set(args.allow_replace), hooks())
    outside = applying.pending_finish(dep)
    if args.json:
        ui.print_json({**render.plan_json(plan), "outside_cloudformation": outside})
    else:
        render.plan(plan)
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


def register(sub, common) -> None:
    p = sub.add_parser(
        "plan",
        parents=[common(read_state=True), allow_parser()],
        help="show what apply would change (change set, nested included)",
    )
    p.add_argument("--out", metavar="FILE", help="save the plan for 'apply --plan FILE'")
    p.set_defaults(handler=run)
