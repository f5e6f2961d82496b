"""`mirror-infra taskcat`: the taskcat multi-region tests, and upgrade tests (--upgrade-from)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from mirror_infra import junit, render, ui
from mirror_infra.commands.common import allow_parser, junit_parser
from mirror_infra.errors import ExitCode, MultiRegionFailed


def _regions(args: argparse.Namespace, default: list[str]) -> list[str]:
    if args.regions:
        return [r.strip() for r in args.regions.split(",") if r.strip()]
    return [args.region] if args.region else list(default)


def _target_line(args: argparse.Namespace, region: str, cfg) -> str:
    """The target, named; its account checked against the environment's pinned accounts
    before the test run creates anything there (its throwaway stacks)."""
    from mirror_infra import accounts
    from mirror_infra.aws.target import Target

    target = Target.resolve(region, args.local, args.profile)
    checked = accounts.check(cfg, target, writes=True)
    if checked.warning:
        ui.err.print(checked.warning, markup=False)
    return target.describe()


# --- taskcat --------------------------------------------------------------------------------


def run_taskcat(args: argparse.Namespace) -> ExitCode:
    junit.check_writable(args.junit)
    if args.upgrade_from:
        return run_upgrade(args)
    from mirror_infra.aws.target import local_url
    from mirror_infra.build import build_test_env
    from mirror_infra.config import load
    from mirror_infra.envs import params_file
    from mirror_infra.multiregion import project as taskcat_project
    from mirror_infra.multiregion import run as taskcat
    from mirror_infra.names import ThrowawayEnv

    cfg = load(args.env)
    project = taskcat_project.load(Path(args.config))
    tests = project.tests_of(cfg.name)
    regions = _regions(args, list(dict.fromkeys(r for t in tests for r in t.regions)))
    test_cfg = cfg.for_test_run(ThrowawayEnv.TASKCAT)
    scratch = tempfile.TemporaryDirectory(prefix="mirror-infra-taskcat-build-")
    result = build_test_env(test_cfg, params_file(cfg.name), Path(scratch.name))
    ui.err.print(
        f"taskcat: {', '.join(t.name for t in tests)} ({cfg.name} as the throwaway environment "
        f"{test_cfg.name}, {len(result.files)} templates) in {', '.join(regions)} on "
        f"{_target_line(args, regions[0], cfg)}"
    )
    settings = taskcat.Settings(
        local_url=local_url() if args.local else None,
        profile=args.profile,
        keep=args.keep,
        lint=not args.no_lint,
    )
    echo = None if args.json else (lambda line: ui.err.print(line, markup=False))
    try:
        outcome = taskcat.run(
            project,
            {cfg.name: test_cfg},
            {cfg.name: result.directory},
            regions,
            Path(args.output_dir),
            settings,
            echo=echo,
        )
    finally:
        scratch.cleanup()
    rows = [
        [
            r.test,
            r.region,
            r.stack_name,
            r.status,
            r.final_status,
            "pass" if r.passed else "FAIL",
            "; ".join(r.problems),
        ]
        for r in outcome.regions
    ]
    if args.json:
        ui.print_json(render.taskcat_json(outcome, test_cfg.name))
    else:
        columns = ["Test", "Region", "Stack", "Created", "After clean-up", "Result", "Problems"]
        ui.out.print(ui.table("taskcat results", columns, rows))
        report = outcome.report if outcome.report.is_file() else "not written"
        ui.out.print(f"report: {report}; log: {outcome.output_dir / 'taskcat.log'}")
    if args.junit:
        cases = [
            junit.Case(
                f"{r.test} {r.region}",
                r.passed,
                f"stack {r.stack_name}: {r.status}; after clean-up {r.final_status or '-'}",
                "; ".join(r.problems) or r.status,
            )
            for r in outcome.regions
        ]
        junit.write(args.junit, f"taskcat {cfg.name}", "mirror_infra.taskcat", cases)
    if not outcome.passed:
        failed = [r.region for r in outcome.regions if not r.passed] or regions
        raise MultiRegionFailed(
            f"taskcat failed in {', '.join(failed)}"
            + (f" ({outcome.error})" if outcome.error else "")
            + f"; see {Path(args.output_dir) / 'taskcat.log'}"
        )
    return ExitCode.OK


# --- upgrade --------------------------------------------------------------------------------


def _change_rows(changes) -> list[list[str]]:
    return [
        [
            c.action,
            "  " * c.depth + c.logical_id,
            c.resource_type,
            c.replacement,
            ", ".join(c.properties),
            c.risk.value,
        ]
        for c in changes
    ]


def run_upgrade(args: argparse.Namespace) -> ExitCode:
    from mirror_infra.build import build_test_env
    from mirror_infra.config import load
    from mirror_infra.envs import params_file
    from mirror_infra.multiregion import upgrade
    from mirror_infra.names import ThrowawayEnv

    cfg = load(args.env)
    test_cfg = cfg.for_test_run(ThrowawayEnv.UPGRADE)
    regions = _regions(args, cfg.test_regions)
    ui.err.print(
        f"upgrade test: {cfg.name} from {args.upgrade_from} to the working tree in "
        f"{', '.join(regions)} on {_target_line(args, regions[0], cfg)}, as the throwaway "
        f"environment {test_cfg.name} ({cfg.name} itself is not touched)"
    )
    with tempfile.TemporaryDirectory(prefix="mirror-infra-upgrade-") as scratch:
        current = build_test_env(test_cfg, params_file(cfg.name), Path(scratch) / "current")
        previous = upgrade.previous_build(
            args.upgrade_from, cfg.name, test_cfg.name, Path(scratch), Path(args.git_repo)
        )
        results = upgrade.run(
            test_cfg,
            regions,
            previous,
            current,
            args.local,
            args.profile,
            set(args.allow_replace),
            args.keep,
            say=lambda region, line: ui.err.print(f"{region}: {line}", markup=False),
        )
    if args.json:
        ui.print_json(render.upgrade_json(results, test_cfg.name))
    else:
        for r in results:
            title = f"{r.region}: {len(r.changes)} change(s), {len(r.destructive)} destructive"
            if not r.changes:
                ui.out.print(f"{title} (the change set was empty)")
                continue
            columns = ["Action", "Logical ID", "Type", "Replacement", "Properties", "Risk"]
            ui.out.print(ui.table(title, columns, _change_rows(r.changes)))
        summary = [
            [
                r.region,
                r.previous_status,
                r.status,
                len(r.changes),
                ", ".join(c.qualified_id for c in r.destructive) or "none",
                r.cleaned,
                "pass" if r.passed else "FAIL",
                "; ".join([r.error, *r.problems]).strip("; "),
            ]
            for r in results
        ]
        columns = [
            "Region",
            "Previous",
            "Upgrade",
            "Changes",
            "Replaces/deletes data",
            "After clean-up",
            "Result",
            "Problems",
        ]
        ui.out.print(ui.table("Upgrade test", columns, summary))
    if args.junit:
        cases = [
            junit.Case(
                f"upgrade {r.region}",
                r.passed,
                "\n".join(
                    [
                        f"previous {r.previous_status or '-'}; upgrade {r.status or '-'}; "
                        f"after clean-up {r.cleaned}",
                        *(f"{c.action} {c.qualified_id} {c.risk}" for c in r.changes),
                    ]
                ),
                "; ".join(
                    [r.error, *r.problems, *(f"refused {c.qualified_id}" for c in r.refused)]
                ).strip("; "),
            )
            for r in results
        ]
        junit.write(args.junit, f"upgrade {cfg.name}", "mirror_infra.upgrade", cases)
    failed = [r for r in results if not r.passed]
    if failed:
        from mirror_infra.deploy.risk import Risk

        rows = [c for r in failed for c in r.refused]
        impossible = sorted({c.qualified_id for c in rows if c.risk is Risk.IMPOSSIBLE})
        refused = sorted({c.logical_id for c in rows if c.risk is not Risk.IMPOSSIBLE})
        hint = (
            "; if intended, name them: " + " ".join(f"--allow-data-loss {n}" for n in refused)
            if refused
            else ""
        )
        if impossible:
            hint += (
                f"; {', '.join(impossible)} would be replaced, which AWS cannot do for a "
                "custom-named resource"
            )
        raise MultiRegionFailed(
            f"upgrade test failed in {', '.join(r.region for r in failed)}{hint}"
        )
    return ExitCode.OK


def register(sub, common) -> None:
    p = sub.add_parser(
        "taskcat",
        parents=[common(read_state=True), junit_parser(), allow_parser()],
        help="run the taskcat multi-region tests (taskcat.yml); --upgrade-from tests upgrades",
        description=(
            "Runs taskcat.yml's tests of --env with the real taskcat (in .venv-taskcat), every "
            "region at once: creates the stacks, checks each region's outputs, deletes them and "
            "writes the HTML report, offline with --local. With --upgrade-from, deploys that "
            "version in every region, then plans and applies the current one and reports what "
            "each change set changes and whether it would replace or delete data."
        ),
    )
    p.add_argument("--regions", help="comma-separated regions (default: the test's regions)")
    p.add_argument("--config", default="taskcat.yml", help="taskcat project file")
    p.add_argument(
        "--output-dir",
        default="taskcat_outputs",
        help="report, logs and results (default: %(default)s)",
    )
    p.add_argument("--keep", action="store_true", help="leave the stacks in place afterwards")
    p.add_argument("--no-lint", action="store_true", help="skip taskcat's own cfn-lint pass")
    p.add_argument(
        "--upgrade-from",
        metavar="REF_OR_DIR",
        help="upgrade test: a git ref (HEAD~1, v1.2) or a saved build directory",
    )
    p.add_argument(
        "--git-repo", default=".", help="upgrade test: the repository of the ref (default: .)"
    )
    p.set_defaults(handler=run_taskcat)
