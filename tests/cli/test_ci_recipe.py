"""The GitHub Actions recipe in docs/github-actions/ is checked, not just shown: the workflow
parses, every mirror-infra command it runs exists with those flags, and the CI role template
passes cfn-lint."""

from __future__ import annotations

import argparse
import re
import shlex

import yaml

from mirror_infra.cli import parser
from tests.conftest import REPO

RECIPE = REPO / "docs" / "github-actions"


def _commands() -> list[list[str]]:
    workflow = yaml.safe_load((RECIPE / "deploy.yml").read_text())
    found = []
    for job in workflow["jobs"].values():
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


def test_the_workflow_parses_and_has_a_plan_and_an_apply_job():
    workflow = yaml.safe_load((RECIPE / "deploy.yml").read_text())
    assert set(workflow["jobs"]) == {"plan", "apply"}
    assert workflow["permissions"]["id-token"] == "write"  # OIDC, no stored keys
    text = (RECIPE / "deploy.yml").read_text()
    assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text


def test_every_command_the_workflow_runs_exists_with_those_flags():
    verbs = _subparsers()
    commands = _commands()
    assert {c[0] for c in commands} >= {"bootstrap", "plan", "apply", "verify", "smoke"}
    for argv in commands:
        verb, *rest = argv
        assert verb in verbs, argv
        known = {s for a in verbs[verb]._actions for s in a.option_strings}
        flags = [word for word in rest if word.startswith("--")]
        assert set(flags) <= known, (argv, set(flags) - known)


def test_the_ci_role_template_passes_cfn_lint():
    from cfnlint.api import lint_file

    assert lint_file(RECIPE / "ci-role.yaml") == []
