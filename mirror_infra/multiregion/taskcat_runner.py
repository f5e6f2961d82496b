"""Runs the real taskcat CLI inside its own virtual environment (.venv-taskcat), with the few
changes that let it run without internet, and records each stack's result for mirror-infra.

Executed as a script by the taskcat venv's Python: it imports only taskcat and the standard
library (mirror_infra is not installed there). Usage:

    python taskcat_runner.py --results FILE --stylesheet FILE [--fast-poll] -- test run -i ...

What it changes in taskcat 0.9.58, and why (each one is a single, named patch below):

- the report's stylesheet: taskcat downloads it from GitHub and inlines it; we inline a copy
  that ships with mirror-infra, so the HTML report is written offline and looks the same online;
- the start-up version check against PyPI: skipped (taskcat is pinned; the check needs internet);
- STS: taskcat forces `https://sts.<region>.amazonaws.com`, which overrides AWS_ENDPOINT_URL;
  when AWS_ENDPOINT_URL is set, STS goes there too, like every other service;
- with --fast-poll (the local AWS, which answers in milliseconds), progress is polled every
  second instead of every ten.

Lambda packaging (which needs Docker) is not patched: taskcat.yml turns it off
(`package_lambda: false`) because the project has no Lambda functions.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

RESULTS_FORMAT = 1


class _Stylesheet:
    """Stands in for `requests` inside taskcat's report module: answers with the local CSS."""

    def __init__(self, css: str) -> None:
        self.text = css

    def get(self, url: str, timeout: float | None = None) -> _Stylesheet:
        del url, timeout
        return self


def _patch_report(stylesheet: Path) -> None:
    from taskcat import _generate_reports

    _generate_reports.requests = _Stylesheet(stylesheet.read_text(encoding="utf-8"))


def _patch_version_check() -> None:
    from taskcat import _cli

    _cli.check_for_update = lambda: None


def _patch_sts_endpoint() -> None:
    if os.environ.get("AWS_ENDPOINT_URL"):
        from taskcat import _client_factory

        _client_factory.REGIONAL_ENDPOINT_SERVICES = []


def _patch_poll_interval(seconds: int) -> None:
    from taskcat._tui import TerminalPrinter

    original = TerminalPrinter.report_test_progress

    def report_test_progress(self, stacker, poll_interval=seconds):
        return original(self, stacker, poll_interval=min(poll_interval, seconds))

    TerminalPrinter.report_test_progress = report_test_progress


class Recorder:
    """Records every stack taskcat launched: after creation (with outputs) and after clean-up."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.stacks: dict[str, dict] = {}
        self.error = ""

    def install(self) -> None:
        from taskcat.testing import CFNTest

        run, clean_up = CFNTest.run, CFNTest.clean_up
        recorder = self

        def recorded_run(test) -> None:
            try:
                run(test)
            finally:
                recorder.created(test)

        def recorded_clean_up(test) -> None:
            try:
                clean_up(test)
            finally:
                recorder.cleaned(test)

        CFNTest.run = recorded_run
        CFNTest.clean_up = recorded_clean_up

    @staticmethod
    def _stacks(test) -> list:
        definition = getattr(test, "test_definition", None)
        return list(definition.stacks) if definition is not None else []

    def created(self, test) -> None:
        for stack in self._stacks(test):
            if not stack.launch_exception:
                stack.refresh()
            self.stacks[stack.id] = {
                "test": stack.test_name,
                "region": stack.region_name,
                "stack_name": stack.name,
                "stack_id": stack.id,
                "status": stack.status,
                "reason": stack.status_reason or "",
                "outputs": {o.key: o.value for o in stack.outputs},
                "parameters": {p.key: p.value for p in stack.parameters},
                "error_events": _error_events(stack),
                "final_status": "",
            }
        self.write()

    def cleaned(self, test) -> None:
        for stack in self._stacks(test):
            entry = self.stacks.get(stack.id)
            if entry is not None:
                entry["final_status"] = _final_status(stack)
        self.write()

    def write(self) -> None:
        data = {"format": RESULTS_FORMAT, "stacks": list(self.stacks.values())}
        if self.error:
            data["error"] = self.error
        self.path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _error_events(stack) -> list[str]:
    if stack.launch_exception:
        return [stack.status_reason or "the stack could not be launched"]
    try:
        return [
            f"{e.logical_id} {e.status}: {e.status_reason}"
            for e in stack.error_events(refresh=True)
        ]
    except Exception as exc:  # noqa: BLE001 - a report must not hide the run's own result
        return [f"could not read the stack's events: {exc}"]


def _final_status(stack) -> str:
    """The stack's status after clean-up: DELETE_COMPLETE once it is gone."""
    if stack.launch_exception:
        return "NOT_CREATED"
    try:
        found = stack.client.describe_stacks(StackName=stack.id)["Stacks"]
    except Exception as exc:  # noqa: BLE001
        if "does not exist" in str(exc):
            return "DELETE_COMPLETE"
        return f"UNKNOWN ({exc})"
    return found[0]["StackStatus"] if found else "DELETE_COMPLETE"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="taskcat_runner")
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--stylesheet", type=Path, required=True)
    parser.add_argument("--fast-poll", action="store_true")
    parser.add_argument("taskcat_args", nargs=argparse.REMAINDER)
    opts = parser.parse_args(argv)
    args = opts.taskcat_args[1:] if opts.taskcat_args[:1] == ["--"] else opts.taskcat_args

    _patch_report(opts.stylesheet)
    _patch_version_check()
    _patch_sts_endpoint()
    if opts.fast_poll:
        _patch_poll_interval(1)
    recorder = Recorder(opts.results)
    recorder.install()
    recorder.write()

    from taskcat._cli import main as taskcat_main

    sys.argv = ["taskcat", *args]
    try:
        taskcat_main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
        if code:
            recorder.error = f"taskcat exited with {code}"
            recorder.write()
        return code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
