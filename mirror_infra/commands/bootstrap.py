"""`mirror-infra bootstrap`: create or check the regional artifacts bucket."""

from __future__ import annotations

import argparse

from mirror_infra import ui
from mirror_infra.commands.common import open_deployment
from mirror_infra.errors import ExitCode


def run(args: argparse.Namespace) -> ExitCode:
    from mirror_infra.deploy.bootstrap import bootstrap

    dep = open_deployment(args)
    result = bootstrap(dep.target)
    ui.out.print(f"artifacts bucket {result.bucket}: {result.action}")
    return ExitCode.OK


def register(sub, common) -> None:
    p = sub.add_parser(
        "bootstrap",
        parents=[common(change_state=True)],
        help="create or check the regional artifacts bucket",
    )
    p.set_defaults(handler=run)
