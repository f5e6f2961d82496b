"""The GitHub Actions recipes in docs/ are checked, not just shown: every workflow validates
against GitHub's workflow schema (the copy check-jsonschema vendors), every mirror-infra command
it runs exists with those flags, and the CI role template passes cfn-lint."""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mirror_infra.cli import parser
from tests.conftest import REPO

DOCS = REPO / "docs"
RECIPE = DOCS / "github-actions"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


def _yaml_files() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*") if p.suffix in (".yml", ".yaml"))


def _is_cloudformation(path: Path) -> bool:
    return "AWSTemplateFormatVersion" in path.read_text(encoding="utf-8")


WORKFLOWS = [p for p in _yaml_files() if not _is_cloudformation(p)]


def _load(path: Path) -> dict:
    # PyYAML reads the key `on` as True (YAML 1.1); GitHub reads it as "on"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in data:
        data["on"] = data.pop(True)
    return data


def _commands(path: Path) -> list[list[str]]:
    found = []
    for job in _load(path)["jobs"].values():
        for step in job["steps"]:
            for line in str(step.get("run", "")).splitlines():
                match = re.search(r"\.venv/bin/mirror-infra (.+?)(?:\s*[|>].*)?$", line)
                if match:
                    found.append(shlex.split(match.group(1)))
    return found


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    top = parser()
    (action,) = [a for a in top._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def _validate(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_yaml_under_docs_is_a_workflow_or_a_cloudformation_template():
    """An allow-list: a YAML file under docs/ that is neither would be checked by nothing."""
    names = {p.relative_to(DOCS).as_posix() for p in WORKFLOWS}
    assert names >= {"github-actions/deploy.yml", "github-actions/drift.yml"}
    for path in WORKFLOWS:
        assert set(_load(path)) >= {"on", "jobs"}, path


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_the_workflow_validates_against_githubs_schema(path):
    done = _validate(path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path):
    """The validator's "ok" above means something: a misspelt key fails it."""
    broken = tmp_path / "broken.yml"
    broken.write_text((RECIPE / "drift.yml").read_text().replace("runs-on:", "run-on:"))
    done = _validate(broken)
    assert done.returncode == 1
    assert "run-on" in done.stdout


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_command_the_workflow_runs_exists_with_those_flags(path):
    verbs = _subparsers()
    commands = _commands(path)
    assert commands, path
    for argv in commands:
        verb, *rest = argv
        assert verb in verbs, argv
        known = {s for a in verbs[verb]._actions for s in a.option_strings}
        flags = [word.split("=", 1)[0] for word in rest if word.startswith("--")]
        assert set(flags) <= known, (argv, set(flags) - known)


def test_the_deploy_workflow_plans_and_applies_by_oidc():
    workflow = _load(RECIPE / "deploy.yml")
    assert set(workflow["jobs"]) == {"plan", "apply"}
    assert workflow["permissions"]["id-token"] == "write"  # OIDC, no stored keys
    assert {c[0] for c in _commands(RECIPE / "deploy.yml")} >= {
        "bootstrap",
        "plan",
        "apply",
        "verify",
        "smoke",
    }


def test_the_drift_workflow_runs_drift_daily_by_oidc_with_a_report():
    workflow = _load(RECIPE / "drift.yml")
    assert [s["cron"] for s in workflow["on"]["schedule"]] == ["17 6 * * *"]  # once a day
    assert workflow["permissions"]["id-token"] == "write"
    (command,) = _commands(RECIPE / "drift.yml")
    assert command[0] == "drift" and "--junit" in command
    # drift exits 2 on drift: a plain run step, so that exit fails the run
    (step,) = [
        s
        for job in workflow["jobs"].values()
        for s in job["steps"]
        if "drift --" in s.get("run", "")
    ]
    assert "continue-on-error" not in step and "||" not in step["run"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_stored_keys(path):
    text = path.read_text()
    assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text


def test_the_ci_role_template_passes_cfn_lint():
    from cfnlint.api import lint_file

    assert lint_file(RECIPE / "ci-role.yaml") == []
