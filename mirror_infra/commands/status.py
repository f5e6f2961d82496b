"""`mirror-infra status`: root and nested stack status, termination protection, nonce
versions, and a warning when guards the params require are missing (an unprotected window).
It reports; it does not judge (exit 0)."""

from __future__ import annotations

import argparse

from mirror_infra import render, ui
from mirror_infra.commands.common import open_deployment
from mirror_infra.errors import ExitCode


def run(args: argparse.Namespace) -> ExitCode:
    from mirror_infra.deploy import nonce, window
    from mirror_infra.deploy.protection import stack_policies_in_place

    dep = open_deployment(args, reads_only=True)
    info = dep.cfn.stack(dep.stack_name)
    nested: dict[str, str] = {}
    versions: list[str] = []
    policies = ""
    if info is not None:
        nested = {
            str(r.path): r.status
            for node in dep.cfn.tree(info.stack_id)
            for r in node.resources
            if r.is_stack
        }
        versions = [v.name for v in nonce.versions(dep.ssm, dep.names)]
        policies = (
            "off (params: stack_policy false)"
            if not dep.cfg.data_safety.stack_policy
            else "in place"
            if stack_policies_in_place(dep.cfn, info.stack_id)
            else "lifted or changed"
        )
    opened = window.read(dep, info) if info is not None else None
    unprotected = opened.missing() if opened is not None and opened.open else None
    data = render.status_json(dep, info, nested, versions, policies, unprotected)
    if unprotected:
        # loud on stderr whatever the format: guards the params require are not in AWS
        ui.err.print(f"WARNING: {opened.describe(dep)}", markup=False)
    rows = [[name, status] for name, status in nested.items()]
    if args.json:
        ui.print_json(data)
        return ExitCode.OK
    ui.out.print(f"{dep.stack_name}: {data['status']}")
    if rows:
        ui.out.print(
            f"last updated {data['last_updated']}; termination protection "
            f"{'on' if data['termination_protection'] else 'off'}; stack policies "
            f"{data['stack_policies']}; nonce versions: {len(data['nonce_versions'])}"
        )
        ui.out.print(ui.table("Nested stacks", ["Stack", "Status"], rows))
    return ExitCode.OK


def register(sub, common) -> None:
    p = sub.add_parser("status", parents=[common(read_state=True)], help="stack status")
    p.set_defaults(handler=run)
