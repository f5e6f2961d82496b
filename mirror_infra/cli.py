"""The `mirror-infra` command line: parses, calls the library, prints. Exit codes are decided
here, in one place, from the commands' return values and the library's typed errors."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from mirror_infra import __version__, render, ui
from mirror_infra.commands import (
    adopt,
    apply,
    bootstrap,
    build,
    destroy,
    drift,
    local,
    outputs,
    plan,
    rotate_nonce,
    smoke,
    status,
    taskcat,
    verify,
)
from mirror_infra.errors import ExitCode, MirrorInfraError, Terminated, UsageError

LOCAL_ENV_VAR = "MIRROR_INFRA_LOCAL"
# set (to anything but 0/false) to see the traceback of an error no command anticipated
DEBUG_ENV_VAR = "MIRROR_INFRA_DEBUG"

# each module adds its verbs with register(subparsers, common); handlers return an ExitCode
COMMAND_MODULES = [
    build,
    bootstrap,
    plan,
    apply,
    outputs,
    status,
    destroy,
    rotate_nonce,
    verify,
    smoke,
    drift,
    adopt,
    taskcat,
    local,
]


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit 1 (2 means "changes/drift")."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message}; see '{self.prog} --help'")


def common(read_state: bool = False, change_state: bool = False) -> argparse.ArgumentParser:
    """The options every command takes (SPEC §3), plus --json / --yes where they apply."""
    parent = _Parser(add_help=False)
    parent.add_argument(
        "--env", default="staging", help="environment: a file in params/ (default: staging)"
    )
    parent.add_argument("--region", help="AWS region (default: the environment's region)")
    parent.add_argument(
        "--profile", help="AWS profile (default: AWS_PROFILE; ignored with --local)"
    )
    parent.add_argument(
        "--local",
        action="store_true",
        default=os.environ.get(LOCAL_ENV_VAR, "") not in ("", "0", "false"),
        help=f"target the local AWS (or set {LOCAL_ENV_VAR}=1)",
    )
    if read_state:
        parent.add_argument("--json", action="store_true", help="print JSON")
    if change_state:
        parent.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    return parent


def parser() -> argparse.ArgumentParser:
    top = _Parser(
        prog="mirror-infra",
        description="Build, deploy and watch the Phase Mirror AWS environment.",
    )
    top.add_argument("--version", action="version", version=f"mirror-infra {__version__}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub, common)
    return top


def _terminate_in(pid: int):
    """The SIGTERM handler of process `pid`. A process forked from it (lint's workers, which
    multiprocessing ends with SIGTERM) ends as SIGTERM ends any process: it must never unwind
    the command's own stack, which it holds a copy of."""

    def handler(signum, frame) -> None:
        if os.getpid() != pid:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        raise Terminated()

    return handler


def main(argv: list[str] | None = None) -> int:
    # botocore would otherwise probe the instance-metadata address for credentials
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    # SIGTERM (as CI sends it) unwinds like Ctrl-C: every flow deletes what it made on the way
    in_main = threading.current_thread() is threading.main_thread()  # where signals arrive
    previous = signal.signal(signal.SIGTERM, _terminate_in(os.getpid())) if in_main else None
    run: JsonRun | None = None  # usage errors come before it: one line on stderr, as always
    try:
        args = parser().parse_args(argv)
        run = JsonRun.of(args)
        code = int(args.handler(args))
        if run is not None:
            run.ended(code)
        return code
    except MirrorInfraError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return _failed(run, str(exc), exc.exit_code, exc)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return _failed(run, "interrupted", ExitCode.INTERRUPTED)
    except Terminated:
        print("terminated", file=sys.stderr)
        return _failed(run, "terminated", ExitCode.TERMINATED)
    except Exception as exc:
        if os.environ.get(DEBUG_ENV_VAR, "") not in ("", "0", "false"):
            raise  # the traceback, for whoever debugs or reports it
        message = _aws_failure(exc) or _unexpected(exc)
        print(f"error: {message}", file=sys.stderr)
        return _failed(run, message, ExitCode.ERROR)
    finally:
        if run is not None:
            run.close()
        if in_main:
            signal.signal(signal.SIGTERM, previous)


# the commands whose --json is a stream of JSON lines ending in an `outcome` object; every
# other --json command prints one JSON document
EVENT_STREAMS = ("apply", "destroy")


class JsonRun:
    """A --json run (or outputs --format json): nothing is asked; a one-document command's
    document is held until it ends, so that an error joins it or stands in its place; an event
    stream always ends with its `outcome` object, errors included."""

    def __init__(self, stream: bool) -> None:
        self.stream = stream
        ui.machine.on = True
        ui.machine.outcome = False
        ui.machine.held = None if stream else []

    @classmethod
    def of(cls, args: argparse.Namespace) -> JsonRun | None:
        if not (getattr(args, "json", False) or getattr(args, "format", None) == "json"):
            return None
        return cls(stream=args.command in EVENT_STREAMS)

    def ended(self, code: int) -> None:
        held, ui.machine.held = ui.machine.held, None
        if self.stream and not ui.machine.outcome:
            render.json_line("outcome", **render.outcome_json(code))
        for document in held or []:
            ui.write_document(document)

    def failed(self, message: str, code: int, exc: BaseException | None) -> None:
        held, ui.machine.held = ui.machine.held, None
        if not self.stream:
            ui.write_document(render.error_json(message, code, held[-1] if held else None))
        elif not ui.machine.outcome:
            finished = getattr(exc, "finished", None)  # a failed stack operation's end
            status = str(finished.status) if finished is not None else None
            render.json_line("outcome", **render.outcome_json(code, message, status))

    def close(self) -> None:
        ui.machine.reset()


def _failed(run: JsonRun | None, message: str, code: int, exc: BaseException | None = None) -> int:
    if run is not None:
        run.failed(message, int(code), exc)
    return int(code)


def _unexpected(exc: Exception) -> str:
    """One line for what no part of the tool anticipated: what happened, and how to see and
    report the traceback (never printed unasked)."""
    if isinstance(exc, OSError) and exc.filename:
        what = f"{exc.filename}: {exc.strerror or exc}"
    else:
        what = " ".join(str(exc).split()) or "(no message)"
    if len(what) > 300:
        what = what[:300] + " ..."
    return (
        f"unexpected {type(exc).__name__}: {what}; mirror-infra did not foresee this: run again "
        f"with {DEBUG_ENV_VAR}=1 for the traceback, and report it with that output"
    )


def _aws_failure(exc: Exception) -> str | None:
    """One line for an AWS call that failed in a way no command anticipated."""
    if not type(exc).__module__.startswith("botocore"):
        return None
    from botocore.exceptions import ClientError

    from mirror_infra.aws.errors import error_code, error_message

    if isinstance(exc, ClientError):
        operation = getattr(exc, "operation_name", "an AWS call")
        text = " ".join(error_message(exc).split())
        return f"AWS {operation} failed: {error_code(exc) or 'error'}: {text}"
    return f"AWS call failed: {' '.join(str(exc).split())}"


if __name__ == "__main__":
    sys.exit(main())
