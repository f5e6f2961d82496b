"""Who may assume the application role, as the built templates say: the GitHub OIDC statement
only when params ask for it (`app_role.github_oidc`), and no statement without principals."""

from __future__ import annotations

import json

import pytest
import yaml

from mirror_infra.cli import main
from tests.conftest import ENVS, resources

HOST = "token.actions.githubusercontent.com"
PROVIDER = f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:oidc-provider/{HOST}"


def _trust(iam_template: dict) -> list:
    (role,) = resources(iam_template, "AWS::IAM::Role").values()
    return role["Properties"]["AssumeRolePolicyDocument"]["Statement"]


@pytest.mark.parametrize("env", ENVS)
def test_no_workflow_is_trusted_unless_params_say_so(built, env):
    assert HOST not in json.dumps(built[env]["Iam"])


def test_github_oidc_alone_builds_one_statement_and_lints_clean(project, capsys):
    params = project / "params" / "staging.yaml"
    settings = yaml.safe_load(params.read_text())
    settings["app_role"] = {"trusted_services": [], "github_oidc": ["repo:org/name:*"]}
    params.write_text(yaml.safe_dump(settings, sort_keys=False))
    assert main(["lint", "--env", "staging"]) == 0, capsys.readouterr()
    (path,) = (project / "build" / "staging").glob("iam-*.json")
    statements = _trust(json.loads(path.read_text()))
    oidc = [s for s in statements if "Fn::If" not in s]
    assert oidc == [
        {
            "Sid": "TrustedGitHubActions",
            "Effect": "Allow",
            "Principal": {"Federated": {"Fn::Sub": PROVIDER}},
            "Action": ["sts:AssumeRoleWithWebIdentity"],
            "Condition": {
                "StringEquals": {f"{HOST}:aud": "sts.amazonaws.com"},
                "StringLike": {f"{HOST}:sub": ["repo:org/name:*"]},
            },
        }
    ]
