"""`mirror-infra rotate-nonce`: add the next nonce version; older ones are never touched."""

from __future__ import annotations

import argparse

from mirror_infra import ui
from mirror_infra.commands.common import open_deployment
from mirror_infra.commands.outputs import deployed
from mirror_infra.errors import Aborted, ExitCode
from mirror_infra.names import RootOutput


def run(args: argparse.Namespace) -> ExitCode:
    from mirror_infra.deploy import nonce

    dep = open_deployment(args)
    info = deployed(dep)
    if not args.yes and not ui.confirm(f"Add a new nonce version for {dep.cfg.name}?"):
        raise Aborted("no nonce added; pass --yes to add one without asking")
    name = nonce.rotate(
        dep.ssm,
        dep.names,
        info.outputs[RootOutput.KMS_KEY_ARN],
        lambda line: ui.err.print(line, markup=False),
    )
    ui.out.print(f"added {name}; older versions are unchanged")
    return ExitCode.OK


def register(sub, common) -> None:
    p = sub.add_parser(
        "rotate-nonce", parents=[common(change_state=True)], help="add the next nonce version"
    )
    p.set_defaults(handler=run)
