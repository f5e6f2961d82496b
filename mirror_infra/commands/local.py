"""`mirror-infra local start|stop|status`: the local AWS in the background."""

from __future__ import annotations

import argparse
from urllib.parse import urlparse

from mirror_infra import ui
from mirror_infra.aws.target import DEFAULT_LOCAL_PORT, LOCAL_URL_VAR, local_url
from mirror_infra.errors import ExitCode, TargetError


def _default_port() -> int:
    try:
        return urlparse(local_url()).port or DEFAULT_LOCAL_PORT
    except TargetError:  # reported when a command needs the URL
        return DEFAULT_LOCAL_PORT


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 1 to 65535, not {text!r}")
    return port


def run_start(args: argparse.Namespace) -> ExitCode:
    from mirror_infra import local_daemon

    running = local_daemon.start(args.port)
    ui.out.print(f"local AWS running at {running.url} (pid {running.pid}, log {running.log})")
    if running.url != local_url():
        ui.out.print(f"point commands at it: export {LOCAL_URL_VAR}={running.url}")
    return ExitCode.OK


def run_stop(args: argparse.Namespace) -> ExitCode:
    from mirror_infra import local_daemon

    stopped = local_daemon.stop()
    if stopped is None:
        ui.out.print("local AWS not running (nothing to stop)")
    else:
        ui.out.print(f"local AWS at {stopped.url} stopped (pid {stopped.pid})")
    return ExitCode.OK


def run_status(args: argparse.Namespace) -> ExitCode:
    from mirror_infra import local_daemon

    running = local_daemon.status()
    if running is None:
        ui.out.print(f"local AWS not running (would listen at {local_url()})")
        return ExitCode.ERROR
    state = "running" if local_daemon.answers(running.url) else "running but not answering"
    ui.out.print(f"local AWS {state} at {running.url} (pid {running.pid})")
    return ExitCode.OK


def register(sub, common) -> None:
    p = sub.add_parser("local", help="start, stop or inspect the local AWS (moto on loopback)")
    verbs = p.add_subparsers(dest="local_verb", required=True, metavar="VERB")
    start = verbs.add_parser("start", help="run the local AWS in the background")
    start.add_argument(
        "--port", type=_port, default=_default_port(), help=f"port (default from {LOCAL_URL_VAR})"
    )
    start.set_defaults(handler=run_start)
    verbs.add_parser("stop", help="stop the local AWS this directory started").set_defaults(
        handler=run_stop
    )
    verbs.add_parser("status", help="say whether the local AWS runs, and where").set_defaults(
        handler=run_status
    )
