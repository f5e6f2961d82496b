"""`mirror-infra plan`: the change set (nested included) and what apply would change outside
CloudFormation; exit 2 when there is anything to apply."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from mirror_infra import render, ui
from mirror_infra.commands.common import allow_parser, express_parser, hooks, open_deployment
from mirror_infra.errors import ConfigError, ExitCode


def run(args: argparse.Namespace) -> ExitCode:
    from mirror_infra.deploy import flow

    if args.json and args.format is not None:
        raise ConfigError(f"--json and --format {args.format} are two outputs; give one of them")
    out = Path(args.out) if args.out else None
    if out is not None:
        writable(out)
    dep = open_deployment(args)

    def shown(planned: flow.Planned) -> None:
        plan, outside, notices = planned.plan, planned.outside, planned.notices
        if args.json:
            ui.print_json(render.plan_document(plan, outside, notices))
        elif args.format == "markdown":
            ui.out.file.write(render.plan_markdown(plan, outside, notices))
        else:
            render.plan(plan)
            for item in outside:
                ui.out.print(f"outside CloudFormation, apply will {item}")
            for notice in notices:
                ui.out.print(f"notice: {notice}", markup=False)

    planned = flow.plan(
        dep,
        set(args.allow_replace),
        hooks(on_planned=shown),
        revert_drift=args.revert_drift,
        out=out,
    )
    if not planned.changes_anything:
        ui.err.print("No changes.")
        return ExitCode.OK
    if planned.saved is not None:
        ui.err.print(f"plan saved to {out}; run '{planned.apply_command}'")
    return ExitCode.CHANGES


def writable(out: Path) -> None:
    """--out names a file that can be written, checked before any change set is made."""
    folder = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        raise ConfigError(f"--out {out}: is a directory; name a file such as staging.plan.json")
    if not folder.is_dir():
        raise ConfigError(f"--out {out}: no directory {folder}; create it or name another file")
    if not os.access(folder, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise ConfigError(f"--out {out}: not writable (permission denied)")


def register(sub, common) -> None:
    p = sub.add_parser(
        "plan",
        parents=[common(read_state=True), allow_parser(), express_parser()],
        help="show what apply would change (change set, nested included)",
    )
    p.add_argument("--out", metavar="FILE", help="save the plan for 'apply --plan FILE'")
    p.add_argument(
        "--format",
        choices=["table", "markdown"],
        help="table (default); markdown: the changes as a GitHub-flavoured table for a "
        "pull-request comment (not with --json)",
    )
    p.add_argument(
        "--revert-drift",
        action="store_true",
        help="drift-aware change sets that put drifted properties back to the deployed "
        "templates (template, last deployment and actual values side by side)",
    )
    p.set_defaults(handler=run)
