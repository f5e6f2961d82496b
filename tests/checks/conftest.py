"""The environment deployed on the local AWS by the real CLI, for the checks to look at.

Deploying costs seconds, so `deployed_module` deploys once per test module and every test in
it must leave the environment as it found it (`green` checks that before each test). Tests that
cannot undo their change use `deployed`, a deployment of their own on a freshly reset local AWS.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from mirror_infra.cli import main
from tests.conftest import REPO, CliResult

LOCAL_URL_VAR = "MIRROR_INFRA_LOCAL_URL"
ALERT_EMAIL = "ops-alerts@example.com"


@dataclass
class Deployed:
    """Staging, applied with an alert email, on the local AWS; `run` calls the CLI."""

    aws: object  # the fixtures' LocalAwsHandle: .client(service)
    capture: object = None
    transcript: list[str] = field(default_factory=list)

    def run(self, *argv: str) -> CliResult:
        code = main([*argv, "--local"])
        out, err = self.capture.readouterr() if self.capture else ("", "")
        self.transcript += [out, err]
        return CliResult(code, out, err)

    def failing_rows(self, command: str = "verify") -> set[str]:
        result = self.run(command, "--json")
        return {c["name"] for c in result.json["checks"] if not c["ok"]}

    def client(self, service: str):
        return self.aws.client(service)


def write_project(root: Path) -> Path:
    """A project copy whose staging params subscribe an alert email."""
    shutil.copytree(REPO / "params", root / "params")
    shutil.copy(REPO / ".cfnlintrc.yaml", root / ".cfnlintrc.yaml")
    path = root / "params" / "staging.yaml"
    params = yaml.safe_load(path.read_text())
    params["alert_email"] = ALERT_EMAIL
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return root


def apply(deployed: Deployed) -> Deployed:
    for argv in (("bootstrap",), ("apply", "--yes")):
        result = deployed.run(*argv)
        assert result.code == 0, f"{argv}: {result.err}"
    return deployed


@pytest.fixture(scope="module")
def deployed_module(local_aws_server, tmp_path_factory) -> Iterator[Deployed]:
    """One deployment for the whole module, on a reset local AWS."""
    from localaws import reset

    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(write_project(tmp_path_factory.mktemp("checks")))
        mp.setenv(LOCAL_URL_VAR, local_aws_server.url)
        for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "MIRROR_INFRA_LOCAL"):
            mp.delenv(var, raising=False)
        reset()
        yield apply(Deployed(local_aws_server))


@pytest.fixture
def green(deployed_module, capsys) -> Deployed:
    """The module's deployment, checked to be as deployed before the test changes it."""
    deployed_module.capture = capsys
    rows = deployed_module.failing_rows()
    assert not rows, f"an earlier test left these rows failing: {sorted(rows)}"
    yield deployed_module
    deployed_module.capture = None


@pytest.fixture
def deployed(local_aws, tmp_path, monkeypatch, capsys) -> Deployed:
    """A deployment of the test's own."""
    monkeypatch.chdir(write_project(tmp_path))
    monkeypatch.delenv("MIRROR_INFRA_LOCAL", raising=False)
    return apply(Deployed(local_aws, capsys))
