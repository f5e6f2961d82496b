"""`mirror-infra build` and `mirror-infra lint`."""

from __future__ import annotations

import argparse
import time

from mirror_infra import ui
from mirror_infra.build import build, build_dir
from mirror_infra.envs import available_envs
from mirror_infra.errors import ConfigError, ExitCode, LintError

DEFAULT_ENV = "staging"  # as every command's --env


def _envs(args: argparse.Namespace) -> list[str]:
    """lint: every environment unless --env names one."""
    return available_envs() if args.env is None else [args.env]


def run_build(args: argparse.Namespace) -> ExitCode:
    if args.all and args.env is not None:
        raise ConfigError(
            f"--env {args.env} and --all name different environments; give one of them"
        )
    for env in available_envs() if args.all else [args.env or DEFAULT_ENV]:
        started = time.perf_counter()
        result = build(env, force=args.force)
        took = time.perf_counter() - started
        state = "unchanged" if result.skipped else "built"
        ui.out.print(
            f"{env}: {state} {result.directory} ({len(result.files)} templates, {took:.2f}s)"
        )
    return ExitCode.OK


def run_lint(args: argparse.Namespace) -> ExitCode:
    from mirror_infra import lint

    envs = _envs(args)
    # a forked process reads the params and builds the stale environments meanwhile; the block
    # ends when it has
    with lint.Ahead(envs) as ahead:
        ignore = lint.ignored_rules()
        if ahead.stale or not lint.cached_anywhere(
            [path for env in envs for path in build(env).files], build_dir(envs[0]).parent
        ):
            lint.import_cfnlint()  # some template is new to the cache: the rules will be needed
        # environments that lint in the same regions share one rule set and one worker pool
        groups: dict[tuple[str, ...], list[str]] = {}
        for env, regions in ahead.regions().items():
            groups.setdefault(regions, []).append(env)
        linters = {regions: lint.Linter(list(regions), ignore) for regions in groups}
        if ahead.stale:
            for linter in linters.values():
                linter.load()  # new templates: the rules will be needed
    total = 0
    for regions, group in groups.items():
        builds = [build(env) for env in group]
        paths = [path for result in builds for path in result.files]
        findings = lint.lint_files(
            paths,
            linters[regions],
            builds[0].directory.parent,
            on_unsaved=lambda line: ui.err.print(line, markup=False),
        )
        for finding in findings:
            ui.out.print(str(finding), markup=False)
        total += len(findings)
        for result in builds:
            count = sum(f.file.startswith(str(result.directory)) for f in findings)
            ui.out.print(f"{result.env}: {len(result.files)} templates, {count} cfn-lint findings")
    if total:
        raise LintError(f"cfn-lint reported {total} finding(s); the bar is zero")
    return ExitCode.OK


def register(sub, common) -> None:
    p = sub.add_parser("build", parents=[common()], help="write build/{env}/ templates")
    p.add_argument(
        "--all", action="store_true", help="build every environment in params/ (not with --env)"
    )
    p.add_argument("--force", action="store_true", help="rebuild even if inputs are unchanged")
    # no --env given is told apart from --env staging, which --all refuses
    p.set_defaults(handler=run_build, env=None)

    p = sub.add_parser("lint", parents=[common()], help="cfn-lint the built templates")
    p.set_defaults(handler=run_lint, env=None)
