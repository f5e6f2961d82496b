"""`mirror-infra drift`: drift detection on every stack (nested included) and the nonce; exit 2
when anything drifted."""

from __future__ import annotations

import argparse
import math

from mirror_infra import junit, render, ui
from mirror_infra.commands.common import environment, junit_parser
from mirror_infra.errors import ConfigError, ExitCode


def run(args: argparse.Namespace) -> ExitCode:
    from mirror_infra.checks.drift import detect
    from mirror_infra.deploy import window

    if not math.isfinite(args.timeout) or args.timeout <= 0:
        raise ConfigError(f"--timeout {args.timeout:g}: expected a number of seconds above 0")
    junit.check_writable(args.junit)
    env = environment(args, reads_only=True)
    ui.err.print("detecting drift on the root stack and every nested stack ...")
    report = detect(env, timeout=args.timeout)
    if args.json:
        ui.print_json(render.drift_json(env, report))
    else:
        render.drift(report)
    if args.junit:
        junit.write(args.junit, f"Drift {env.stack.name}", "mirror_infra.drift", _cases(report))
    for line in report.errors:
        ui.err.print(f"error: {line}", markup=False)
    if report.errors:
        return ExitCode.ERROR
    opened = window.read(env.dep, env.stack)
    if opened is not None and opened.open:  # its differences are in the report (exit 2)
        ui.err.print(f"WARNING: {opened.describe(env.dep)}", markup=False)
    if any(d.stack for d in report.differences):  # a resource of a nested stack drifted
        ui.err.print(
            "to put the templates' values back: "
            f"'{env.dep.tool_command('plan', '--revert-drift', '--out', 'FILE')}', then "
            f"'{env.dep.tool_command('apply', '--plan', 'FILE')}'",
            markup=False,
        )
    return ExitCode.CHANGES if report.drifted else ExitCode.OK


def _cases(report) -> list:
    """One case per stack (its detection and differences), and one for what lives outside
    CloudFormation (the nonce, termination protection, stack policies)."""
    from mirror_infra.checks.drift import OUT_OF_BAND

    def lines(differences) -> str:
        return "\n".join(
            f"{d.resource} {d.status} {d.property}: expected {d.expected}, actual {d.actual}"
            for d in differences
        )

    def drifted(differences) -> str:
        # the failure line is what a CI reporter shows first: each drifted property by name
        named = ", ".join(f"{d.resource} {d.property}" for d in differences)
        return f"{len(differences)} difference(s): {named}"

    cases = []
    for s in report.stacks:
        complete = s.detection.value == "DETECTION_COMPLETE" and not s.unknown
        problems = [drifted(s.differences)] if s.differences else []
        if not complete:
            problems.append(
                f"detection {s.detection.value}" + (f": {s.reason}" if s.reason else "")
            )
        problems += s.unknown
        output = lines(s.differences) + (
            f"\nnot checked: {', '.join(s.not_checked)}" if s.not_checked else ""
        )
        cases.append(junit.Case(s.stack, not problems, output.strip(), "; ".join(problems)))
    outside = report.nonce
    cases.append(
        junit.Case(
            OUT_OF_BAND,
            not outside,
            lines(outside),
            drifted(outside) if outside else "",
        )
    )
    return cases


def register(sub, common) -> None:
    p = sub.add_parser(
        "drift",
        parents=[common(read_state=True), junit_parser()],
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
