"""Deploy tests run the real CLI in-process against the local AWS over HTTP."""

from __future__ import annotations

import json

import pytest

from mirror_infra.cli import main
from tests.conftest import CliResult


class Cli:
    """Runs `mirror-infra ... --local` and remembers everything it printed."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys
        self.transcript: list[str] = []
        self.applied: CliResult | None = None  # the fixture's own apply, when it made one

    def __call__(self, *argv: str, local: bool = True) -> CliResult:
        args = [*argv, "--local"] if local else list(argv)
        code = main(args)
        captured = self._capsys.readouterr()
        self.transcript += [captured.out, captured.err]
        return CliResult(code, captured.out, captured.err)

    def json(self, *argv: str) -> dict:
        result = self(*argv, "--json")
        assert result.code in (0, 2), result.err
        return json.loads(result.out)

    def json_any(self, *argv: str) -> dict:
        """The JSON document a --json command printed, whatever its exit code."""
        return json.loads(self(*argv, "--json").out)


@pytest.fixture
def cli(linted_project, local_aws, capsys) -> Cli:
    """The CLI in a scratch project, against a freshly reset local AWS."""
    return Cli(capsys)


@pytest.fixture
def deployed(cli) -> Cli:
    """Staging bootstrapped and applied."""
    assert cli("bootstrap").code == 0
    result = cli("apply", "--yes")
    assert result.code == 0, result.text
    return cli


@pytest.fixture
def production(cli) -> Cli:
    """Production bootstrapped and applied (its first create protected by the update after it)."""
    assert cli("bootstrap", "--env", "production").code == 0
    applied = cli("apply", "--env", "production", "--yes")
    assert applied.code == 0, applied.text
    cli.applied = applied
    return cli
