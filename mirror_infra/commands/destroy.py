"""`mirror-infra destroy`: say what is deleted and what is retained, then delete the
environment after the confirmation every deletion needs."""

from __future__ import annotations

import argparse

from mirror_infra import render, ui
from mirror_infra.commands.common import hooks, live_view, open_deployment, show_failure
from mirror_infra.errors import ApplyFailed, ConfigError, ExitCode


def run(args: argparse.Namespace) -> ExitCode:
    from mirror_infra.deploy import destroy

    if args.json and not (args.yes or args.confirm_env):
        raise ConfigError("--json asks nothing: add --yes (production: --confirm-env production)")
    # with --json, stdout carries only JSON lines: the tables go to stderr
    console = ui.err if args.json else ui.out
    dep = open_deployment(args)
    live = None if args.json else live_view()
    printer = render.EventPrinter(0)

    def shown(teardown, versions) -> None:
        if teardown is None:
            if not versions:
                console.print(f"{dep.stack_name} does not exist; nothing to destroy")
                return
            console.print(
                f"{dep.stack_name} does not exist; --delete-nonce deletes {len(versions)} nonce "
                f"version(s): {', '.join(versions)}"
            )
            return
        _show_teardown(console, args, teardown)
        printer.total = len(teardown.deleted)
        if live is not None:
            for item in teardown.deleted:
                stack = item.qualified_id.rpartition(".")[0]
                live.totals[stack] = live.totals.get(stack, 0) + 1

    def consent(deletion) -> destroy.Answer:
        """The flags, or the person at the terminal: the library decides what counts."""
        if deletion.typed:
            if args.confirm_env == deletion.env:
                return destroy.Answer(typed=args.confirm_env)
            confirmed = ui.confirm(deletion.question, expected=deletion.env)
            return destroy.Answer(typed=deletion.env if confirmed else "")
        return destroy.Answer(yes=args.yes or ui.confirm(deletion.question))

    on_event = render.event_json if args.json else (live or printer)
    try:
        done = destroy.run(
            dep,
            destroy.Hooks(consent=consent, on_survey=shown, flow=hooks(on_event=on_event)),
            delete_nonce=args.delete_nonce,
            empty=args.empty_buckets,
        )
    except ApplyFailed as failed:
        show_failure(failed, live, args.json)
        raise
    if live is not None:
        live.close()
    teardown = done.teardown
    if teardown is None:
        if done.nonce_deleted:
            console.print(f"deleted {len(done.nonce_deleted)} nonce version(s)")
        return ExitCode.OK
    console.print(f"{dep.stack_name} deleted; {len(teardown.retained)} resource(s) retained")
    if done.nonce_deleted:
        console.print(f"deleted {len(done.nonce_deleted)} nonce version(s)")
    if args.json:
        render.json_line("outcome", **render.destroy_outcome(teardown, done.nonce_deleted))
    return ExitCode.OK


def _show_teardown(console, args: argparse.Namespace, teardown) -> None:
    console.print(
        ui.table(
            f"Deleted by destroy ({len(teardown.deleted)})",
            ["Resource", "Type", "Physical ID", "Note"],
            [[i.qualified_id, i.resource_type, i.physical_id, i.why] for i in teardown.deleted],
        )
    )
    retained = [[i.qualified_id, i.resource_type, i.physical_id, i.why] for i in teardown.retained]
    retained += [
        [n, "SSM SecureString", n, f"{teardown.nonce_keys[n]}; deleted only with --delete-nonce"]
        for n in teardown.nonce_versions
        if not args.delete_nonce
    ]
    console.print(
        ui.table(
            f"Retained ({len(retained)})", ["Resource", "Type", "Physical ID", "Why"], retained
        )
    )
    if args.delete_nonce and teardown.nonce_versions:
        console.print(
            f"also deleted: {len(teardown.nonce_versions)} nonce version(s) (--delete-nonce): "
            + "; ".join(f"{n}: {teardown.nonce_keys[n]}" for n in teardown.nonce_versions)
        )
    emptied = sum(len(v) for v in teardown.full_buckets.values()) if args.empty_buckets else 0
    if emptied:
        console.print(
            f"--empty-buckets deletes {emptied} object version(s) and delete marker(s) from "
            f"{', '.join(teardown.full_buckets)} first"
        )


def register(sub, common) -> None:
    p = sub.add_parser(
        "destroy",
        parents=[common(change_state=True)],
        help="delete the environment (says what is retained)",
    )
    p.add_argument("--delete-nonce", action="store_true", help="also delete every nonce version")
    p.add_argument(
        "--empty-buckets",
        action="store_true",
        help="delete every object version of the buckets destroy deletes (never of a retained "
        "one), after the same confirmation",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="JSON lines on stdout: one object per stack event, then the outcome (asks nothing)",
    )
    p.add_argument(
        "--confirm-env",
        metavar="ENV",
        help="non-interactive typed confirmation (required for production)",
    )
    p.set_defaults(handler=run)
