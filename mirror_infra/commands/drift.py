"""`mirror-infra drift`: drift detection on every stack (nested included) and the nonce; exit 2
when anything drifted."""

from __future__ import annotations

import argparse
import math
from dataclasses import asdict

from mirror_infra import render, ui
from mirror_infra.commands.common import environment
from mirror_infra.errors import ConfigError, ExitCode


def run(args: argparse.Namespace) -> ExitCode:
    from mirror_infra.checks.drift import detect

    if not math.isfinite(args.timeout) or args.timeout <= 0:
        raise ConfigError(f"--timeout {args.timeout:g}: expected a number of seconds above 0")
    env = environment(args)
    ui.err.print("detecting drift on the root stack and every nested stack ...")
    report = detect(env, timeout=args.timeout)
    if args.json:
        ui.print_json(
            {
                "environment": env.dep.cfg.name,
                "target": env.dep.target.describe(),
                "drifted": report.drifted,
                "errors": report.errors,
                "stacks": [
                    {k: v for k, v in asdict(s).items() if k != "differences"}
                    for s in report.stacks
                ],
                "differences": [asdict(d) for d in report.differences],
            }
        )
    else:
        render.drift(report)
    for line in report.errors:
        ui.err.print(f"error: {line}", markup=False)
    if report.errors:
        return ExitCode.ERROR
    return ExitCode.CHANGES if report.drifted else ExitCode.OK


def register(sub, common) -> None:
    p = sub.add_parser(
        "drift",
        parents=[common(read_state=True)],
        help="drift detection on every stack (nested included) and the nonce",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="give up waiting for the detections after this long (default: 300)",
    )
    p.set_defaults(handler=run)
