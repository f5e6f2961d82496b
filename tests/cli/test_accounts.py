"""Account pinning (SPEC §3, issue 25 item 2), through the real-account path: no --local, the
standard AWS settings, with AWS_ENDPOINT_URL pointed at the local AWS (account 123456789012,
as GetCallerIdentity answers there). A pinned environment refuses any other account before
anything is written, reading commands included; an unpinned production refuses the commands
that write and says how to pin it; the local AWS's own account is always allowed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mirror_infra.cli import COMMAND_MODULES, main, parser
from tests.conftest import REPO

LOCAL_ACCOUNT = "123456789012"
OTHER_ACCOUNT = "111122223333"
ROOT = "mirror-dissonance-staging"

# every command that reaches AWS, with the arguments that make it run (no --local)
REACHES_AWS = {
    "bootstrap": ["bootstrap"],
    "plan": ["plan"],
    "apply": ["apply", "--yes"],
    "outputs": ["outputs"],
    "status": ["status"],
    "destroy": ["destroy", "--yes"],
    "rotate-nonce": ["rotate-nonce", "--yes"],
    "verify": ["verify"],
    "smoke": ["smoke", "--yes"],
    "drift": ["drift"],
    "adopt": ["adopt", "--yes"],
    "taskcat": ["taskcat", "--regions", "us-east-1"],
    "taskcat --upgrade-from": ["taskcat", "--upgrade-from", "build-0", "--regions", "us-east-1"],
}
# the commands that never call AWS: the templates, and the local AWS's own process
OFFLINE = {"build", "lint", "local"}


def test_every_command_is_known_to_reach_aws_or_not():
    """A new command is checked here before it can run unpinned (allow-list, not a guess)."""
    subparsers = next(a for a in parser()._actions if a.dest == "command")
    commands = set(subparsers.choices)
    assert commands == {argv[0] for argv in REACHES_AWS.values()} | OFFLINE
    assert len(COMMAND_MODULES) == len({m.__name__ for m in COMMAND_MODULES})


@pytest.fixture
def real_path(local_aws, monkeypatch):
    """The standard AWS settings, as for a real account, with the local AWS as the endpoint."""
    monkeypatch.delenv("MIRROR_INFRA_LOCAL", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", local_aws.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return local_aws


def _pin(project: Path, env: str, *accounts: str) -> None:
    path = project / "params" / f"{env}.yaml"
    listed = ", ".join(f'"{a}"' for a in accounts)
    path.write_text(path.read_text() + f"accounts: [{listed}]\n")


def _state(aws) -> dict:
    cfn, s3, ssm, ddb = (aws.client(s) for s in ("cloudformation", "s3", "ssm", "dynamodb"))
    stacks = sorted(
        (s["StackName"], s["StackStatus"], str(s.get("LastUpdatedTime", "")))
        for s in cfn.describe_stacks()["Stacks"]
    )
    buckets = {
        b["Name"]: [
            (v["Key"], v["VersionId"])
            for v in s3.list_object_versions(Bucket=b["Name"]).get("Versions", [])
        ]
        for b in s3.list_buckets()["Buckets"]
    }
    nonces = [
        (p["Name"], p["Version"])
        for p in ssm.get_parameters_by_path(Path="/guardian", Recursive=True)["Parameters"]
    ]
    tables = {t: ddb.scan(TableName=t)["Count"] for t in ddb.list_tables()["TableNames"]}
    return {"stacks": stacks, "buckets": buckets, "nonces": nonces, "tables": tables}


def test_a_pinned_environment_refuses_another_account_in_every_command(
    deployed, real_path, project, capsys
):
    """Every command, reading ones too, refuses before it writes anything: one line naming
    both accounts, exit 1, the local AWS exactly as it was."""
    _pin(project, "staging", OTHER_ACCOUNT)
    shutil.copy(REPO / "taskcat.yml", project / "taskcat.yml")
    before = _state(real_path)
    for name, argv in REACHES_AWS.items():
        code = main(list(argv))
        err = capsys.readouterr().err
        last = err.strip().splitlines()[-1]
        assert code == 1, (name, err)
        assert "Traceback" not in err, name
        assert last == (
            f"error: account {LOCAL_ACCOUNT} is not one staging may use (params/staging.yaml "
            f"accounts: {OTHER_ACCOUNT}); nothing was changed: use credentials of that account "
            "(--profile or AWS_PROFILE)"
        ), (name, err)
        assert _state(real_path) == before, name


def test_the_pinned_account_is_allowed_and_shown_in_plans_header(cli, real_path, project):
    _pin(project, "staging", OTHER_ACCOUNT, LOCAL_ACCOUNT)
    assert cli("bootstrap", local=False).code == 0
    result = cli("plan", local=False)
    assert result.code == 2, result.text
    header = result.err.splitlines()[:2]
    assert header == [
        f"{ROOT} on AWS us-east-1, endpoint {real_path.url}",
        f"  account {LOCAL_ACCOUNT}, pinned in params/staging.yaml",
    ]
    assert "warning" not in result.err


def test_the_local_aws_is_always_allowed(cli, project):
    """--local reaches the local AWS's fixed account, whatever the params pin."""
    _pin(project, "staging", OTHER_ACCOUNT)
    result = cli("status")
    assert result.code == 0, result.text
    assert f"  account {LOCAL_ACCOUNT}, the local AWS's own (always allowed)" in result.err


def test_unpinned_production_refuses_writes_until_the_advised_line_is_added(
    cli, real_path, project
):
    """The advice the refusal prints, followed as written, lets the same command run."""
    assert "accounts:" not in (project / "params" / "production.yaml").read_text().replace(
        "# accounts:", ""
    )
    before = _state(real_path)
    refused = cli("bootstrap", "--env", "production", local=False)
    assert refused.code == 1
    last = refused.err.strip().splitlines()[-1]
    line = f'accounts: ["{LOCAL_ACCOUNT}"]'
    assert last == (
        "error: params/production.yaml names no accounts, and production is only changed in an "
        f"account it names; nothing was changed: if {LOCAL_ACCOUNT} is production's account, "
        f"add the line '{line}' to params/production.yaml"
    )
    assert _state(real_path) == before
    # a reading command runs, with one warning
    status = cli("status", "--env", "production", local=False)
    assert status.code == 0, status.text
    assert [w for w in status.err.splitlines() if w.startswith("warning")] == [
        "warning: params/production.yaml names no accounts, so nothing stops a command of "
        "production in another account; to pin production to 123456789012, add the line "
        f"'{line}' to params/production.yaml"
    ]
    # follow the advice
    params = project / "params" / "production.yaml"
    params.write_text(params.read_text() + line + "\n")
    assert cli("bootstrap", "--env", "production", local=False).code == 0
    planned = cli("plan", "--env", "production", local=False)
    assert planned.code == 2, planned.text
    assert f"  account {LOCAL_ACCOUNT}, pinned in params/production.yaml" in planned.err


def test_unpinned_staging_warns_once_and_runs(cli, real_path):
    result = cli("bootstrap", local=False)
    assert result.code == 0, result.text
    warnings = [w for w in result.err.splitlines() if w.startswith("warning")]
    assert len(warnings) == 1
    assert "params/staging.yaml names no accounts" in warnings[0]
    assert f"  account {LOCAL_ACCOUNT}, not pinned (params/staging.yaml names no accounts)" in (
        result.err
    )
