"""`mirror-infra outputs`: the seed's eight outputs of the deployed environment."""

from __future__ import annotations

import argparse

from mirror_infra import render, ui
from mirror_infra.commands.common import open_deployment
from mirror_infra.errors import DeployError, ExitCode


def deployed(dep):
    """The root stack with its outputs, or a DeployError saying to apply first."""
    info = dep.cfn.stack(dep.stack_name)
    if info is None or not info.outputs:
        state = "does not exist" if info is None else f"is {info.status} with no outputs"
        raise DeployError(
            f"{dep.stack_name} {state} in {dep.target.region}; run 'mirror-infra apply' first"
        )
    return info


def run(args: argparse.Namespace) -> ExitCode:
    from mirror_infra.names import SEED_OUTPUTS

    dep = open_deployment(args)
    info = deployed(dep)
    if args.json:
        ui.print_json({seed: info.outputs.get(key, "") for seed, key in SEED_OUTPUTS.items()})
    else:
        render.outputs(info.outputs)
    return ExitCode.OK


def register(sub, common) -> None:
    p = sub.add_parser("outputs", parents=[common(read_state=True)], help="the eight outputs")
    p.set_defaults(handler=run)
