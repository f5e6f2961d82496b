"""`mirror-infra verify`: the seed's verification checklist against the live environment, one
pass/fail row per item."""

from __future__ import annotations

import argparse

from mirror_infra import junit, render
from mirror_infra.commands.common import environment, junit_parser
from mirror_infra.errors import ExitCode


def run(args: argparse.Namespace) -> ExitCode:
    from mirror_infra.checks.verify import verify

    junit.check_writable(args.junit)
    env = environment(args, reads_only=True)
    return render.checks(f"Verify {env.stack.name}", verify(env), args.json, env, args.junit)


def register(sub, common) -> None:
    p = sub.add_parser(
        "verify",
        parents=[common(read_state=True), junit_parser()],
        help="the verification checklist against the live environment (pass/fail rows)",
    )
    p.set_defaults(handler=run)
