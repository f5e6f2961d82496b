"""`mirror-infra outputs`: the seed's eight outputs of the deployed environment, naming the
nonce version the application should use now; `--format env` prints the application's own
configuration variables."""

from __future__ import annotations

import argparse

from mirror_infra import render, ui
from mirror_infra.commands.common import open_deployment
from mirror_infra.errors import ConfigError, DeployError, ExitCode


def deployed(dep):
    """The root stack with its outputs, or a DeployError saying to apply first."""
    info = dep.cfn.stack(dep.stack_name)
    if info is None or not info.outputs:
        state = "does not exist" if info is None else f"is {info.status} with no outputs"
        raise DeployError(
            f"{dep.stack_name} {state} in {dep.target.region}; "
            f"run '{dep.tool_command('apply')}' first"
        )
    return info


def run(args: argparse.Namespace) -> ExitCode:
    from mirror_infra.deploy.outputs import read

    if args.json and args.format not in (None, "json"):
        raise ConfigError(f"--json is --format json; it does not go with --format {args.format}")
    shape = "json" if args.json else args.format or "table"
    dep = open_deployment(args, reads_only=True)
    found = read(dep, deployed(dep))
    if found.nonce_note:
        ui.err.print(found.nonce_note, markup=False)
    if shape == "json":
        ui.print_json(render.outputs_json(found))
    elif shape == "env":
        ui.out.file.write(render.env_lines(found.app_config()))
    else:
        render.outputs(found.values)
    return ExitCode.OK


def register(sub, common) -> None:
    p = sub.add_parser("outputs", parents=[common(read_state=True)], help="the eight outputs")
    p.add_argument(
        "--format",
        choices=["table", "json", "env"],
        help="table (default); json (as --json); env: the application's configuration "
        "variables as NAME=value lines, for a .env file or $GITHUB_ENV",
    )
    p.set_defaults(handler=run)
