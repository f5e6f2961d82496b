"""`mirror-infra adopt`: bring an environment that already exists (same names, live data) under
the stacks with CloudFormation's import, without changing a byte of its data (docs/adopt.md)."""

from __future__ import annotations

import argparse

from mirror_infra.commands.common import adopt_and_show
from mirror_infra.errors import ExitCode


def run(args: argparse.Namespace) -> ExitCode:
    return adopt_and_show(args)


def register(sub, common) -> None:
    p = sub.add_parser(
        "adopt",
        parents=[common(change_state=True)],
        help="bring an environment that already exists under the stacks (import, no data change)",
    )
    p.add_argument("--out", metavar="FILE", help="save the survey to run later with --plan")
    p.add_argument("--plan", metavar="FILE", help="run a survey saved by 'adopt --out'")
    p.set_defaults(handler=run)
