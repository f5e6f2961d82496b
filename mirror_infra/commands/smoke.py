"""`mirror-infra smoke`: the seed's tests and the application's access patterns, with test
records that are removed afterwards."""

from __future__ import annotations

import argparse

from mirror_infra import junit, render, ui
from mirror_infra.commands.common import environment, junit_parser
from mirror_infra.errors import Aborted, ExitCode


def run(args: argparse.Namespace) -> ExitCode:
    from mirror_infra.checks.smoke import Smoke

    junit.check_writable(args.junit)
    env = environment(args)
    cfg = env.dep.cfg
    # with an alert email a real person gets the test alert; production tables get test writes
    asks = bool(cfg.alert_email or cfg.data_safety.termination_protection) and not args.yes
    if asks and not ui.confirm(
        f"Smoke-test {cfg.name}: write and remove test records and send "
        f"{cfg.alert_email or 'the ops topic'} a test alert?"
    ):
        raise Aborted(f"smoke not run on {cfg.name}; pass --yes to run it without asking")
    run = Smoke(env)
    ui.err.print(f"smoke run {run.run_id}: writes test records, removes them afterwards")
    return render.checks(
        f"Smoke {env.stack.name} (run {run.run_id})", run.run(), args.json, env, args.junit
    )


def register(sub, common) -> None:
    p = sub.add_parser(
        "smoke",
        parents=[common(read_state=True, change_state=True), junit_parser()],
        help="write, read and remove test data; publish a test alert",
    )
    p.set_defaults(handler=run)
