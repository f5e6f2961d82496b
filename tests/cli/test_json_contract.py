"""The --json contract on every path (issue 25 item 5): success, refusal and error, with a
terminal on stdin or without. Event streams (apply, destroy) print JSON lines ending with an
`outcome` object; every other --json command prints one JSON document, or a JSON error
object; nothing is asked and no table reaches stdout. Usage errors argparse catches before a
command starts are the exception: one line on stderr, exit 1."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass

import pytest

from mirror_infra.cli import EVENT_STREAMS, main, parser
from tests.conftest import REPO


class Terminal:
    """stdin as a terminal that would answer yes: a --json run must never read it."""

    def __init__(self) -> None:
        self.read = 0

    def isatty(self) -> bool:
        return True

    def readline(self) -> str:
        self.read += 1
        return "y\n"

    def fileno(self) -> int:
        raise OSError("not a real terminal")


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    code: int
    terminal: bool = False
    error: str = ""  # a part of the error the JSON must carry


def _run(argv, capsys, terminal: bool) -> tuple[int, str, str, Terminal]:
    tty = Terminal()
    with pytest.MonkeyPatch.context() as patch:
        if terminal:
            patch.setattr("sys.stdin", tty)
        code = main([*argv, "--local"])
    out, err = capsys.readouterr()
    return code, out, err, tty


def _check(case: Case, code: int, out: str, err: str, tty: Terminal) -> None:
    where = f"{case.id}: {' '.join(case.argv)}\n{out}\n{err}"
    assert code == case.code, where
    assert tty.read == 0, f"{where}: asked on the terminal"
    assert "Traceback" not in err, where
    if case.argv[0] in EVENT_STREAMS:
        lines = [json.loads(line) for line in out.splitlines()]  # every line is JSON
        assert lines and lines[-1]["type"] == "outcome", where
        assert [x["type"] for x in lines].count("outcome") == 1, where
        outcome = lines[-1]
        assert outcome["ok"] is (code == 0), where
        if case.error:
            assert case.error in outcome["error"], where
    else:
        document = json.loads(out)  # one document, nothing else
        assert isinstance(document, dict), where
        if code != 0 and case.error:
            assert case.error in document["error"] and document["ok"] is False, where
            assert document["exit_code"] == code, where
    if code != 0:
        assert err.strip().splitlines()[-1].startswith("error: "), where


DEPLOYED = [
    Case("plan, no changes", ("plan", "--json"), 0),
    Case("outputs", ("outputs", "--json"), 0),
    Case("outputs --format json", ("outputs", "--format", "json"), 0),
    Case("status", ("status", "--json"), 0),
    Case("verify", ("verify", "--json"), 0),
    Case("drift", ("drift", "--json"), 0),
    Case("smoke", ("smoke", "--json", "--yes"), 0),
    Case("apply, no changes", ("apply", "--json", "--yes"), 0),
    Case(
        "plan --format markdown --json",
        ("plan", "--format", "markdown", "--json"),
        1,
        error="--json and --format markdown are two outputs; give one of them",
    ),
    Case(
        "outputs --format env --json",
        ("outputs", "--format", "env", "--json"),
        1,
        error="it does not go with --format env",
    ),
    Case(
        "apply without --yes, at a terminal",
        ("apply", "--json"),
        1,
        terminal=True,
        error="--json asks nothing",
    ),
    Case(
        "destroy without --yes, at a terminal",
        ("destroy", "--json"),
        1,
        terminal=True,
        error="--json asks nothing",
    ),
    Case(
        "destroy --confirm-env staging, at a terminal",
        # --delete-nonce: the nonce goes with its key, so only the confirmation is missing
        ("destroy", "--json", "--confirm-env", "staging", "--empty-buckets", "--delete-nonce"),
        1,
        terminal=True,
        error="nothing deleted",
    ),
    Case(
        "a saved plan that is missing",
        ("apply", "--json", "--plan", "missing.json"),
        1,
        error="missing.json",
    ),
    Case(
        "an adopt survey",
        ("apply", "--json", "--plan", "survey.json"),
        1,
        error="is an adopt survey, which has no JSON output",
    ),
    Case(
        "smoke of an environment not deployed",
        ("smoke", "--json", "--yes", "--env", "production"),
        1,
        error="does not exist",
    ),
    Case(
        "taskcat of production",
        ("taskcat", "--json", "--env", "production"),
        1,
        error="production",
    ),
]


def test_every_json_command_on_a_deployed_environment(deployed, project, capsys):
    (project / "survey.json").write_text(json.dumps({"kind": "mirror-infra adopt"}))
    shutil.copy(REPO / "taskcat.yml", project / "taskcat.yml")
    for case in DEPLOYED:
        _check(case, *_run(case.argv, capsys, case.terminal))
    # a plan refused for a destructive change: one document, the plan with the error
    params = project / "params" / "staging.yaml"
    kept = params.read_text()
    params.write_text(re.sub(r"log_retention_days: \d+", "log_retention_days: 1", kept))
    refused = Case("plan refused", ("plan", "--json"), 1, error="refusing to change data")
    code, out, err, tty = _run(refused.argv, capsys, False)
    _check(refused, code, out, err, tty)
    assert "Monitoring.AppLogGroup" in json.loads(out)["destructive"]
    params.write_text(kept)
    # smoke asks first when a person would get its test alert: under --json it asks nothing
    params.write_text(kept.replace('alert_email: ""', "alert_email: ops@example.com"))
    asks = Case("smoke, email, at a terminal", ("smoke", "--json"), 1, terminal=True, error="--yes")
    _check(asks, *_run(asks.argv, capsys, asks.terminal))
    params.write_text(kept)
    # what a command did not foresee is a JSON error too
    unforeseen = Case("unforeseen", ("verify", "--json"), 1, error="unexpected RuntimeError")

    def broken(env):
        raise RuntimeError("x")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("mirror_infra.checks.verify.verify", broken)
        _check(unforeseen, *_run(unforeseen.argv, capsys, False))
    destroyed = Case("destroy", ("destroy", "--json", "--yes", "--delete-nonce"), 0)
    _check(destroyed, *_run(destroyed.argv, capsys, False))


NOT_DEPLOYED = [
    Case("status", ("status", "--json"), 0),
    Case("outputs", ("outputs", "--json"), 1, error="does not exist"),
    Case("verify", ("verify", "--json"), 1, error="does not exist"),
    Case("drift", ("drift", "--json"), 1, error="does not exist"),
    Case("smoke", ("smoke", "--json", "--yes"), 1, error="does not exist"),
    Case("destroy, nothing to destroy", ("destroy", "--json", "--yes"), 0),
    Case("plan, not bootstrapped", ("plan", "--json"), 1, error="bootstrap"),
    Case("apply, not bootstrapped", ("apply", "--json", "--yes"), 1, error="bootstrap"),
]


@pytest.mark.parametrize("case", NOT_DEPLOYED, ids=[c.id for c in NOT_DEPLOYED])
def test_every_json_command_where_nothing_is_deployed(cli, capsys, case):
    _check(case, *_run(case.argv, capsys, case.terminal))


def test_a_failed_apply_ends_with_its_outcome(cli, local_aws, capsys):
    assert cli("bootstrap").code == 0
    local_aws.settings(fail_create=["AppRole"])
    case = Case("apply fails", ("apply", "--json", "--yes"), 1)
    code, out, err, tty = _run(case.argv, capsys, False)
    _check(case, code, out, err, tty)
    lines = [json.loads(line) for line in out.splitlines()]
    assert {x["type"] for x in lines} == {"plan", "event", "outcome"}
    assert lines[-1]["status"] == "ROLLBACK_COMPLETE"


@pytest.mark.parametrize("command", ["plan", "apply", "destroy", "outputs", "verify"])
def test_a_usage_error_is_one_line_on_stderr_even_with_json(command, capsys):
    assert main([command, "--json", "--bogus"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and "unrecognized arguments: --bogus" in err


def test_every_json_command_is_in_these_tables():
    """A command that takes --json (or --format json) is run here, on every path."""
    subparsers = next(a for a in parser()._actions if a.dest == "command")
    with_json = {
        name
        for name, sub in subparsers.choices.items()
        if any("--json" in a.option_strings for a in sub._actions)
    }
    tested = {c.argv[0] for c in DEPLOYED + NOT_DEPLOYED}
    assert with_json <= tested
