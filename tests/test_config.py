"""Bad params files and flags each give one line naming the file, the key and what was expected."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mirror_infra.cli import main
from mirror_infra.config import load
from mirror_infra.errors import ConfigError

GOOD = (Path(__file__).resolve().parents[1] / "params" / "staging.yaml").read_text()


def _with(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


BAD_FILES = [
    ("unknown key", GOOD + "colour: blue\n", "params/staging.yaml: colour: unknown key"),
    (
        "unknown nested key",
        _with(GOOD, "  stack_policy: false", "  stack_policy: false\n  snapshot: true"),
        "params/staging.yaml: data_safety.snapshot: unknown key",
    ),
    (
        "wrong type",
        _with(GOOD, "table_deletion_protection: false", "table_deletion_protection: 'no'"),
        "params/staging.yaml: data_safety.table_deletion_protection: expected true or false, "
        "got str 'no'",
    ),
    (
        "bad email",
        _with(GOOD, 'alert_email: ""', "alert_email: ops-at-example"),
        "params/staging.yaml: alert_email: expected an email address like ops@example.com "
        "(or empty), not 'ops-at-example'",
    ),
    (
        "unknown region",
        _with(GOOD, "region: us-east-1", "region: us-east-9"),
        "params/staging.yaml: region: expected a known AWS region name such as us-east-1, "
        "not 'us-east-9'",
    ),
    (
        "unknown test region",
        _with(GOOD, "eu-west-1]", "mars-north-1]"),
        "params/staging.yaml: test_regions.2: expected a known AWS region name",
    ),
    (
        "bad removal policy",
        _with(GOOD, "deletion_policy: Delete", "deletion_policy: Keep"),
        "params/staging.yaml: data_safety.deletion_policy: expected 'Delete' or 'Retain', "
        "got 'Keep'",
    ),
    (
        "bad retention",
        _with(GOOD, "log_retention_days: 30", "log_retention_days: 31"),
        "params/staging.yaml: log_retention_days: expected one of 1, 3, 5",
    ),
    (
        "bad principal",
        _with(GOOD, "[ecs-tasks.amazonaws.com, lambda.amazonaws.com]", "['*']"),
        "params/staging.yaml: app_role.trusted_services.0: expected a service principal",
    ),
    (
        "ttl_off names no table",
        GOOD + "ttl_off:\n  counters: expiresAt\n",
        "params/staging.yaml: ttl_off.counters.[key]: Input should be 'fp-events', 'consent' "
        "or 'block-counter'",
    ),
    *[
        (
            f"github_oidc {pattern}",
            _with(
                GOOD,
                "  trusted_role_arns: []",
                f"  trusted_role_arns: []\n  github_oidc: ['{pattern}']",
            ),
            "params/staging.yaml: app_role.github_oidc.0: expected a GitHub subject pattern like "
            "repo:OWNER/REPO:ref:refs/heads/main, naming the owner and the repository without "
            "wildcards (a wildcard there would let other repositories assume the role; one after "
            f"them, repo:OWNER/REPO:*, is fine), not '{pattern}'",
        )
        # AWS's guidance: no wildcard in the owner or the repository; and a subject names both
        for pattern in (
            "*",
            "repo:*",
            "repo:*/*",
            "repo:org/*",
            "repo:org/na*e:*",
            "repo:o?g/name:*",
            "repo:org/name",
            "org/name:*",
        )
    ],
    (
        "nobody trusted",
        _with(GOOD, "[ecs-tasks.amazonaws.com, lambda.amazonaws.com]", "[]"),
        "params/staging.yaml: app_role: expected at least one of trusted_services, "
        "trusted_role_arns or github_oidc",
    ),
    (
        "account id unquoted (YAML makes it a number)",
        GOOD + "accounts: [123456789012]\n",
        "params/staging.yaml: accounts.0: expected a 12-digit AWS account id in quotes, like "
        '"123456789012", not 123456789012',
    ),
    (
        "account id too short",
        GOOD + 'accounts: ["12345678901"]\n',
        "params/staging.yaml: accounts.0: expected a 12-digit AWS account id in quotes",
    ),
    (
        "no account listed",
        GOOD + "accounts: []\n",
        "params/staging.yaml: accounts: expected at least 1 item(s), got []",
    ),
    ("not yaml", "region: [us-east-1\n", "params/staging.yaml: line 2: not valid YAML"),
    ("not a mapping", "- a\n- b\n", "params/staging.yaml: expected a mapping of settings"),
    (
        "missing key",
        _with(GOOD, "region: us-east-1\n", ""),
        "params/staging.yaml: region: required key is missing",
    ),
]


@pytest.mark.parametrize(("case", "text", "message"), BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_bad_params_file_is_one_clear_line(project, capsys, case, text, message):
    (project / "params" / "staging.yaml").write_text(text)
    with pytest.raises(ConfigError) as raised:
        load("staging")
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)
    # the same through the CLI: one line on stderr, exit 1, nothing built
    assert main(["build", "--env", "staging"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: " + message)
    assert err.count("\n") == 1
    assert not (project / "build" / "staging").exists()


BAD_FLAGS = [
    (
        ["build", "--env", "qa"],
        "params/qa.yaml: no such params file for --env 'qa'; known "
        "environments: production, staging",
    ),
    (["build", "--env", "../etc"], "--env '../etc': expected a lower-case name like 'staging'"),
    (["lint", "--env", "Prod"], "--env 'Prod': expected a lower-case name"),
    (
        ["build", "--env", "staging", "--all"],
        "--env staging and --all name different environments; give one of them",
    ),
]


@pytest.mark.parametrize(("argv", "message"), BAD_FLAGS, ids=[" ".join(a[0]) for a in BAD_FLAGS])
def test_bad_flag_is_one_clear_line(project, capsys, argv, message):
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: " + message), err
    assert err.count("\n") == 1
    assert not (project / "build").exists()


def test_build_without_env_builds_staging_and_all_builds_every_environment(project, capsys):
    assert main(["build"]) == 0
    assert sorted(p.name for p in (project / "build").iterdir()) == ["staging"]
    assert main(["build", "--all"]) == 0
    assert sorted(p.name for p in (project / "build").iterdir()) == ["production", "staging"]


def test_missing_params_dir_names_the_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["build"]) == 1
    assert "params/staging.yaml: no such params file" in capsys.readouterr().err


@pytest.mark.parametrize(
    "pattern",
    [
        "repo:MultiplicityFoundation/Phase-Mirror:ref:refs/heads/main",
        "repo:org/name:*",  # a wildcard after a named repository
        "repo:org/name:environment:production",
        "repo:org/my.repo_2:pull_request",
    ],
)
def test_github_oidc_alone_trusts_someone(project, pattern):
    params = project / "params" / "staging.yaml"
    params.write_text(
        _with(
            GOOD,
            "  trusted_services: [ecs-tasks.amazonaws.com, lambda.amazonaws.com]",
            f"  trusted_services: []\n  github_oidc: ['{pattern}']",
        )
    )
    assert load("staging").app_role.github_oidc == [pattern]


def test_production_is_protected_and_staging_is_not():
    prod, staging = load("production"), load("staging")
    assert prod.data_safety.deletion_policy == "Retain"
    assert prod.data_safety.table_deletion_protection and prod.data_safety.termination_protection
    assert staging.data_safety.deletion_policy == "Delete"
    assert len(set(prod.test_regions)) >= 3


def test_console_script_runs():
    done = subprocess.run(
        [sys.executable, "-m", "mirror_infra.cli", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.startswith("mirror-infra ")


def test_output_with_brackets_is_printed_as_is(capsys):
    """AWS reasons are full of brackets; none may be read as terminal markup."""
    from mirror_infra import ui

    ui.err.print("failed to create: [ConsentTable]. under [/guardian/staging] [bold]x[/]")
    ui.out.print(ui.table(None, ["Reason"], [["[ConsentTable] [/guardian/x]"]]))
    captured = capsys.readouterr()
    assert "failed to create: [ConsentTable]. under [/guardian/staging] [bold]x[/]" in captured.err
    assert "[ConsentTable] [/guardian/x]" in captured.out
