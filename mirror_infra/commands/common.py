"""What the deploy and check commands share: opening the target, the --allow-data-loss flag,
and the hooks through which the deploy flow shows progress and asks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.text import Text

from mirror_infra import render, ui

# what may run while an adoption is unfinished (docs/adopt.md): adopt itself, and commands that
# change nothing of the environment; anything else, a command added later included, is refused
MAY_RUN_WHILE_ADOPTING = frozenset({"adopt", "outputs", "status", "verify", "drift", "bootstrap"})
# what runs without first restoring a guard the params require and AWS does not hold (an
# unprotected window, deploy/window.py): commands that change nothing of the environment (they
# report it), bootstrap (another stack), adopt (its own last step sets the guards), and destroy
# (the way to destroy a protected stack is to turn termination protection off first, and what
# the stack keeps, Retain and RetainExceptOnCreate alike, stays); anything else restores first
LEAVES_GUARDS_AS_THEY_ARE = frozenset(
    {"outputs", "status", "verify", "drift", "plan", "bootstrap", "adopt", "destroy"}
)


def open_deployment(args: argparse.Namespace, reads_only: bool = False, adopting: bool = False):
    """The environment and target the flags name, announced on stderr before anything else,
    with the account checked against the environment's pinned accounts (a command writes
    unless it says it only reads); refused while an adoption is unfinished unless the command
    may run then (`adopting`: it is adopt's own run, whatever verb started it)."""
    from mirror_infra import accounts
    from mirror_infra.adopt.state import refuse_unfinished
    from mirror_infra.deploy.context import Deployment

    dep = Deployment.open(
        args.env,
        args.region,
        args.local,
        args.profile,
        express=getattr(args, "express", False),
        confirmed_env=getattr(args, "confirm_env", None),
    )
    # the endpoint first: the account needs a call, which an endpoint that never answers blocks
    ui.err.print(Text.assemble((dep.stack_name, "bold"), f" on {dep.target.where()}"))
    checked = accounts.check(dep.cfg, dep.target, writes=not reads_only)
    ui.err.print(f"  account {checked.shown}", markup=False)
    if checked.warning:
        ui.err.print(checked.warning, markup=False)
    # continuing a stuck rollback changes no template: it is the way out adopt itself names
    may_run = args.command in MAY_RUN_WHILE_ADOPTING or getattr(args, "continue_rollback", False)
    if not adopting and not may_run:
        refuse_unfinished(dep)
    if not adopting and not reads_only and args.command not in LEAVES_GUARDS_AS_THEY_ARE:
        from mirror_infra.deploy import closing

        closing.close(dep, lambda line: ui.err.print(line, markup=False))
    return dep


def allow_parser() -> argparse.ArgumentParser:
    allow = argparse.ArgumentParser(add_help=False)
    allow.add_argument(
        "--allow-data-loss",
        "--allow-replace",  # the old spelling, still accepted
        dest="allow_replace",
        action="append",
        default=[],
        metavar="LOGICAL_ID",
        help="accept replacing, deleting or losing this resource's data (repeatable; "
        "plain or Stack.LogicalId)",
    )
    return allow


def express_parser() -> argparse.ArgumentParser:
    fast = argparse.ArgumentParser(add_help=False)
    fast.add_argument(
        "--express",
        action="store_true",
        help="express mode: the operation ends once configuration is applied, before the key, "
        "tables, role and bucket are ready (refused for production unless --confirm-env)",
    )
    fast.add_argument(
        "--confirm-env",
        metavar="ENV",
        help="with --express on a protected environment (production): its name",
    )
    return fast


def ask_cancel_or_detach():
    from mirror_infra.deploy.flow import OnInterrupt

    try:
        answer = ui.ask(
            "\nCancel the update (it rolls back) or detach and leave it running? [c/D] "
        )
    except KeyboardInterrupt:
        return OnInterrupt.DETACH
    if answer is not None and answer.lower() in ("c", "cancel"):
        return OnInterrupt.CANCEL
    return OnInterrupt.DETACH


def hooks(total: int = 0, **overrides):
    """The flow's hooks for a person at a terminal or a CI log: events as lines on stderr."""
    from mirror_infra.deploy.flow import Hooks

    settings = {
        "on_event": render.EventPrinter(total),
        "say": lambda line: ui.err.print(line, markup=False),
        "on_interrupt": ask_cancel_or_detach,
        "on_finding": lambda finding: ui.err.print(finding, markup=False),
    }
    merged = {**settings, **overrides}
    merged["on_event"] = render.StateChanges(merged["on_event"])
    return Hooks(**merged)


def environment(args: argparse.Namespace, reads_only: bool = False):
    """The deployed environment the flags name, or NotDeployedError."""
    from mirror_infra.checks.base import open_environment

    return open_environment(open_deployment(args, reads_only=reads_only))


def junit_parser() -> argparse.ArgumentParser:
    report = argparse.ArgumentParser(add_help=False)
    report.add_argument(
        "--junit",
        type=Path,
        metavar="FILE",
        help="also write the results as JUnit XML (one test case per row) for CI test reporters",
    )
    return report


class _LazyLive:
    """The live view, started by the first event (after any question has been answered), on a
    terminal only; `totals` (resources per stack) can be filled before."""

    def __init__(self) -> None:
        self.totals: dict[str, int] = {}
        self.view = None

    def __call__(self, event) -> None:
        if self.view is None:
            from mirror_infra.live import LiveView

            self.view = LiveView(self.totals)
        self.view(event)

    def close(self) -> None:
        if self.view is not None:
            self.view.close()
            self.view = None


def live_view() -> _LazyLive | None:
    """A live view when stderr is a terminal (MIRROR_INFRA_PLAIN=1 asks for plain lines)."""
    import os

    if not sys.stderr.isatty() or os.environ.get("MIRROR_INFRA_PLAIN"):
        return None
    return _LazyLive()


def adopt_and_show(args: argparse.Namespace):
    """`adopt` (and `apply --plan` of a saved survey): the library's adopt flow, shown."""
    from mirror_infra.adopt import run as adopting
    from mirror_infra.adopt import saved as saving
    from mirror_infra.errors import ConfigError, ExitCode

    out = getattr(args, "out", None)  # apply --plan runs a saved survey too (no --out there)
    if out and args.plan:
        raise ConfigError("--out saves a survey and --plan runs one: give one of them")
    saved = saving.load(Path(args.plan)) if args.plan else None
    dep = open_deployment(args, adopting=True)

    def shown(survey, nonce_exists: bool) -> None:
        render.adoption(survey)
        ui.out.print(
            f"nonce {dep.names.nonce_parameter(1)}: "
            + (
                "exists; kept as it is (never rewritten, never printed)"
                if nonce_exists
                else "created after"
            )
        )

    def confirm(survey) -> bool:
        return args.yes or ui.confirm(f"Adopt these into {dep.stack_name}?")

    outcome = adopting.run(
        dep,
        adopting.Hooks(flow=hooks(on_plan=render.plan), on_survey=shown, confirm=confirm),
        out=Path(out) if out else None,
        saved=saved,
    )
    if not outcome.survey.adopted:
        ui.err.print("nothing to adopt: none of the environment's resources exists; run 'apply'")
        return ExitCode.OK
    if outcome.saved is not None:
        ui.err.print(f"survey saved to {out}; run it with 'adopt --plan {out}'")
        return ExitCode.CHANGES
    adopted = outcome.adopted
    ui.err.print(
        f"{dep.stack_name}: adopted {sum(len(v) for v in adopted.imported.values())} existing "
        f"resource(s) into {len(adopted.imported)} nested stack(s)"
    )
    stateful = sorted(adopted.retained)
    if stateful and not set(stateful) <= set(dep.cfg.data_safety.adopted):
        ui.err.print(
            f"they keep DeletionPolicy Retain (this tool did not create their data); to keep "
            f"it so, add to params/{dep.cfg.name}.yaml under data_safety: "
            f"adopted: [{', '.join(stateful)}] (without it the next plan shows switching them "
            "to the environment's policy as losing data, and refuses it unless named)",
            markup=False,
        )
    if not outcome.drift:
        ui.err.print("the adopted resources match the templates")
        return ExitCode.OK
    for d in outcome.drift:
        ui.out.print(
            f"drift: {d.stack}.{d.resource} {d.property}: template {d.expected}, actual {d.actual}",
            markup=False,
        )
    revert = dep.tool_command("plan", "--revert-drift")
    ui.err.print(
        "the adopted resources differ from the templates where shown; "
        f"'{revert}' shows how to put the template's values back"
    )
    return ExitCode.OK


def show_failure(failed, live, as_json: bool) -> None:
    """An operation that ended in failure, as apply and destroy show it: the live view closed,
    the root cause, and under --json the final outcome line."""
    if live is not None:
        live.close()
    render.root_cause(failed.finished)
    if as_json:
        render.json_line("outcome", **render.failed_outcome(failed))
