"""Advice that names the tool's own commands acts where the tool looked (README, after the exit
codes): under --local it carries --local, else the --profile given, and --region when the
region is not the environment's own. Each is run here with exactly the words printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from mirror_infra.cli import main
from tests.advice import aimed_at_local, follow_tool, tool_commands
from tests.expected import ExpectedNames

NAMES = ExpectedNames("staging")
OTHER_REGION = "us-west-2"  # not staging's own (params/staging.yaml: us-east-1)


def test_no_advice_of_a_failing_run_under_local_lacks_local(cli, local_aws):
    """Representative refusals, one for each kind of state; every 'mirror-infra ...' they print
    carries --local (and no --profile), so no new advice string can send a user of --local to
    their default AWS account."""
    printed: dict[str, str] = {}

    def refused(name: str, *argv: str) -> None:
        result = cli(*argv)
        assert result.code == 1, (name, result.text)
        printed[name] = result.err

    refused("plan, not bootstrapped", "plan")
    refused("plan, another region, not bootstrapped", "plan", "--region", OTHER_REGION)
    assert cli("bootstrap").code == 0
    refused("outputs, not deployed", "outputs")
    refused("verify, not deployed", "verify")
    assert cli("apply", "--yes").code == 0
    local_aws.client("ssm").delete_parameter(Name=NAMES.nonce_parameter(1))
    refused("outputs, no nonce", "outputs")
    for name, err in printed.items():
        advised = tool_commands(err)
        assert advised, (name, err)  # each names a command: the scan is not vacuous
        for command in advised:
            aimed_at_local(command)
    (other,) = tool_commands(printed["plan, another region, not bootstrapped"])
    assert other == f"mirror-infra bootstrap --region {OTHER_REGION} --local"


def test_the_bootstrap_advice_for_another_region_followed_as_printed_bootstraps_it(cli):
    """plan in a region not bootstrapped names bootstrap there; followed as printed, plan runs."""
    refused = cli("plan", "--region", OTHER_REGION)
    assert refused.code == 1, refused.text
    (advised,) = tool_commands(refused.err)
    assert follow_tool(advised, cli).code == 0
    assert cli("plan", "--region", OTHER_REGION).code == 2


@pytest.fixture
def profiled(local_aws, project: Path, monkeypatch):
    """A named AWS profile, as on a real account (no --local), whose endpoint is the local
    AWS; no credentials in the environment, so only the profile can be what worked."""
    for name in ("MIRROR_INFRA_LOCAL", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    config = project / "aws-config"
    config.write_text("[profile mirror]\nregion = us-east-1\n")
    credentials = project / "aws-credentials"
    credentials.write_text(
        "[mirror]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_ENDPOINT_URL", local_aws.url)
    return "mirror"


def _run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


def test_advice_names_the_profile_given_and_the_region_followed_as_printed(profiled, capsys):
    """With --profile and a region not the environment's own, the advice names both (and no
    --local); followed as printed it acts on that same profile and region."""
    code, err = _run(capsys, "plan", "--profile", profiled, "--region", OTHER_REGION)
    assert code == 1, err
    (advised,) = tool_commands(err)
    assert advised == f"mirror-infra bootstrap --region {OTHER_REGION} --profile {profiled}"
    assert _run(capsys, *advised.split()[1:])[0] == 0
    code, err = _run(capsys, "outputs", "--profile", profiled, "--region", OTHER_REGION)
    assert code == 1, err
    (advised,) = tool_commands(err)
    assert advised == (
        f"mirror-infra apply --env staging --region {OTHER_REGION} --profile {profiled}"
    )


def test_a_profile_from_aws_profile_is_not_repeated(profiled, capsys, monkeypatch):
    """AWS_PROFILE stays in the user's environment: the advice has nothing to add for it."""
    monkeypatch.setenv("AWS_PROFILE", profiled)
    code, err = _run(capsys, "outputs")
    assert code == 1, err
    assert tool_commands(err) == ["mirror-infra apply --env staging"]
