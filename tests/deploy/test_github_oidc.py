"""GitHub Actions may assume the application role by OIDC when params say so
(`app_role.github_oidc`): one trust statement for the account's provider, which `verify`
checks exists, and which nothing here creates (it is account-wide)."""

from __future__ import annotations

import json

import yaml

from tests.advice import commands, follow
from tests.expected import ExpectedNames

NAMES = ExpectedNames("staging")
ACCOUNT, REGION = "123456789012", "us-east-1"
SUBJECTS = [
    "repo:MultiplicityFoundation/Phase-Mirror:ref:refs/heads/main",
    "repo:MultiplicityFoundation/Phase-Mirror:environment:staging",
]
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
# the statement GitHub's and AWS's pages describe: audience STS, subject one of the patterns
STATEMENT = {
    "Sid": "TrustedGitHubActions",
    "Effect": "Allow",
    "Principal": {"Federated": PROVIDER},
    "Action": ["sts:AssumeRoleWithWebIdentity"],
    "Condition": {
        "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
        "StringLike": {"token.actions.githubusercontent.com:sub": SUBJECTS},
    },
}


def _trust(local_aws) -> list[dict]:
    role = local_aws.client("iam").get_role(RoleName=f"mirror-dissonance-staging-app-{REGION}")
    trust = role["Role"]["AssumeRolePolicyDocument"]
    if isinstance(trust, str):
        from urllib.parse import unquote

        trust = json.loads(unquote(trust))
    return trust["Statement"]


def test_github_oidc_alone_trusts_the_workflows_and_verify_wants_the_provider(
    cli, local_aws, project
):
    params = project / "params" / "staging.yaml"
    settings = yaml.safe_load(params.read_text())
    settings["app_role"] = {"trusted_services": [], "github_oidc": SUBJECTS}
    params.write_text(yaml.safe_dump(settings, sort_keys=False))
    assert cli("bootstrap").code == 0
    applied = cli("apply", "--yes")
    assert applied.code == 0, applied.text
    assert _trust(local_aws) == [STATEMENT]  # no service statement: params name none

    checked = cli("verify")
    assert checked.code == 1
    advice = [line for line in checked.out.splitlines() if line.startswith("application role: ")]
    assert advice == [
        "application role: create the account's GitHub OIDC provider once (mirror-infra never "
        "does: it is account-wide): aws iam create-open-id-connect-provider --url "
        "https://token.actions.githubusercontent.com --client-id-list sts.amazonaws.com "
        f"--region {REGION} --endpoint-url {local_aws.url}"
    ]
    assert (
        local_aws.client("iam").list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    )

    # the advice, followed as printed (on the local AWS), makes the row pass
    (create,) = commands(advice[0])
    follow(create, local_aws)
    checked = cli("verify", "--json")
    assert checked.code == 0, checked.out
    (row,) = [c for c in json.loads(checked.out)["checks"] if c["name"] == "application role"]
    assert f"GitHub OIDC provider {PROVIDER} (audiences sts.amazonaws.com)" in row["evidence"]


def test_without_github_oidc_the_role_trusts_no_workflow(cli, local_aws):
    assert cli("bootstrap").code == 0
    assert cli("apply", "--yes").code == 0
    statements = _trust(local_aws)
    assert [s["Sid"] for s in statements] == ["TrustedServices"]
    assert "Federated" not in json.dumps(statements)


def test_a_provider_without_the_sts_audience_fails_the_row_with_advice(cli, local_aws, project):
    params = project / "params" / "staging.yaml"
    settings = yaml.safe_load(params.read_text())
    settings["app_role"]["github_oidc"] = SUBJECTS
    params.write_text(yaml.safe_dump(settings, sort_keys=False))
    assert cli("bootstrap").code == 0
    assert cli("apply", "--yes").code == 0
    iam = local_aws.client("iam")
    iam.create_open_id_connect_provider(
        Url="https://token.actions.githubusercontent.com", ClientIDList=["another-audience"]
    )
    checked = cli("verify")
    assert checked.code == 1
    (advice,) = [line for line in checked.out.splitlines() if line.startswith("application role: ")]
    assert advice == (
        "application role: add the audience: aws iam add-client-id-to-open-id-connect-provider "
        f"--open-id-connect-provider-arn {PROVIDER} --client-id sts.amazonaws.com "
        f"--region {REGION} --endpoint-url {local_aws.url}"
    )
    # the advice, followed as printed (on the local AWS), makes the row pass
    (add,) = commands(advice)
    follow(add, local_aws)
    checked = cli("verify", "--json")
    assert checked.code == 0, checked.out
    (row,) = [c for c in json.loads(checked.out)["checks"] if c["name"] == "application role"]
    assert "sts.amazonaws.com" in row["evidence"], row
