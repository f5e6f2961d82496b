"""`verify`, `smoke`, `drift`: checks of the deployed environment. Parses, calls
`mirror_infra.checks`, prints; results on stdout, progress on stderr."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from mirror_infra import ui
from mirror_infra.errors import Aborted, ConfigError, ExitCode


def _environment(args: argparse.Namespace):
    from mirror_infra.checks.base import open_environment
    from mirror_infra.commands.deploy import _open

    return open_environment(_open(args))


def _rows(title: str, checks, as_json: bool, env) -> ExitCode:
    """Print pass/fail rows (verify and smoke alike); OK only when every row passed."""
    ok = all(c.ok for c in checks)
    if as_json:
        ui.print_json(
            {
                "environment": env.dep.cfg.name,
                "target": env.dep.target.describe(),
                "ok": ok,
                "checks": [asdict(c) for c in checks],
            }
        )
    else:
        rows = [[c.name, _result(c), c.evidence] for c in checks]
        ui.out.print(ui.table(title, ["Check", "Result", "Evidence"], rows))
        for c in checks:
            if c.link:
                ui.out.print(f"{c.name}: {c.link}", markup=False)
        passed = sum(c.ok for c in checks)
        warned = sum(bool(c.ok and c.warnings) for c in checks)
        ui.out.print(
            f"{passed}/{len(checks)} passed" + (f", {warned} with a warning" if warned else "")
        )
    if not ok:
        failed = [c.name for c in checks if not c.ok]
        ui.err.print(
            f"error: {len(failed)} of {len(checks)} failed: {', '.join(failed)}", markup=False
        )
    return ExitCode.OK if ok else ExitCode.ERROR


def _result(check):
    if not check.ok:
        return ui.styled("FAIL", "bold red")
    return ui.styled("WARN", "yellow") if check.warnings else ui.styled("PASS", "green")


def run_verify(args: argparse.Namespace) -> ExitCode:
    from mirror_infra.checks.verify import verify

    env = _environment(args)
    return _rows(f"Verify {env.stack.name}", verify(env), args.json, env)


def run_smoke(args: argparse.Namespace) -> ExitCode:
    from mirror_infra.checks.smoke import Smoke

    env = _environment(args)
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
    return _rows(f"Smoke {env.stack.name} (run {run.run_id})", run.run(), args.json, env)


def run_drift(args: argparse.Namespace) -> ExitCode:
    from mirror_infra.checks.drift import detect

    if args.timeout <= 0:
        raise ConfigError(f"--timeout {args.timeout:g}: expected a number of seconds above 0")
    env = _environment(args)
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
        _print_drift(report)
    for line in report.errors:
        ui.err.print(f"error: {line}", markup=False)
    if report.errors:
        return ExitCode.ERROR
    return ExitCode.CHANGES if report.drifted else ExitCode.OK


def _print_drift(report) -> None:
    stacks = [
        [
            s.stack,
            s.detection.value,
            s.drift_status,
            str(len({d.resource for d in s.differences})),
            ", ".join(s.not_checked),
        ]
        for s in report.stacks
    ]
    ui.out.print(
        ui.table("Stacks", ["Stack", "Detection", "Drift", "Drifted", "Not checked"], stacks)
    )
    differences = report.differences
    if differences:
        rows = [
            [d.stack, d.resource, d.resource_type, d.status, d.property, d.expected, d.actual]
            for d in differences
        ]
        columns = ["Stack", "Resource", "Type", "Status", "Property", "Expected", "Actual"]
        ui.out.print(ui.table("Drift", columns, rows))
    not_checked = sum(len(s.not_checked) for s in report.stacks)
    resources = len({(d.stack, d.resource) for d in differences})
    ui.out.print(
        f"{len(report.stacks)} stacks checked; {resources} resource(s) drifted; "
        f"{not_checked} resource(s) not checked (drift detection does not support them)"
    )


def register(sub, common) -> None:
    p = sub.add_parser(
        "verify",
        parents=[common(read_state=True)],
        help="the verification checklist against the live environment (pass/fail rows)",
    )
    p.set_defaults(handler=run_verify)

    p = sub.add_parser(
        "smoke",
        parents=[common(read_state=True, change_state=True)],
        help="write, read and remove test data; publish a test alert",
    )
    p.set_defaults(handler=run_smoke)

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
    p.set_defaults(handler=run_drift)
