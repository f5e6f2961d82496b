"""docs/aws-operations.md stays true: every AWS operation a command calls on a representative
run (recorded on the tool's own clients, which carry the `mirror-infra` user agent, so the
local AWS's own calls are not counted) is in that command's section, on a row that cites an
AWS documentation page."""

from __future__ import annotations

import re

import botocore.client
import pytest

from tests.conftest import REPO
from tests.deploy.conftest import cli  # noqa: F401 - the in-process CLI fixture
from tests.expected import ExpectedNames

PROD = ExpectedNames("production")

DOC = REPO / "docs" / "aws-operations.md"
OPERATION = re.compile(r"`([a-z0-9-]+:[A-Za-z]+)`")
PAGE = re.compile(r"https://docs\.aws\.amazon\.com/\S+|\b(?:UG|API|TR) `[A-Za-z0-9_.-]+\.html`")


def documented() -> dict[str, dict[str, str]]:
    """command -> operation (`service:Operation`) -> the row naming it."""
    table: dict[str, dict[str, str]] = {}
    commands: list[str] = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            commands = re.findall(r"`([a-z][a-z -]*)`", line)
            for command in commands:
                table.setdefault(command, {})
        elif line.startswith("|"):
            for op in OPERATION.findall(line):
                for command in commands:
                    table[command][op] = line
    return table


# (command as its section names it, argv): a run of each, staging then production's guards
RUNS = [
    ("bootstrap", ["bootstrap"]),
    ("plan", ["plan"]),
    ("apply", ["apply", "--yes"]),
    ("outputs", ["outputs"]),
    ("status", ["status"]),
    ("verify", ["verify"]),
    ("smoke", ["smoke", "--yes"]),
    ("drift", ["drift"]),
    ("rotate-nonce", ["rotate-nonce", "--yes"]),
    ("plan --revert-drift", ["plan", "--revert-drift"]),
    ("destroy", ["destroy", "--yes", "--delete-nonce"]),
    ("bootstrap", ["bootstrap", "--env", "production"]),
    ("apply", ["apply", "--env", "production", "--yes"]),
    # a window opened by hand (see below): rotate-nonce restores the guards first
    ("rotate-nonce", ["rotate-nonce", "--env", "production", "--yes"]),
    ("status", ["status", "--env", "production"]),
]


@pytest.fixture
def recorded(monkeypatch) -> tuple[dict[str, set[str]], dict]:
    real = botocore.client.BaseClient._make_api_call
    seen: dict[str, set[str]] = {}
    current = {"command": ""}

    def call(client, name, params):
        if "mirror-infra" in (client.meta.config.user_agent_extra or ""):
            service = client.meta.service_model.service_name
            seen.setdefault(current["command"], set()).add(f"{service}:{name}")
        return real(client, name, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", call)
    return seen, current


def test_every_operation_a_command_calls_is_in_its_section_with_a_page(
    cli,  # noqa: F811
    recorded,
    local_aws,
):
    seen, current = recorded
    for command, argv in RUNS:
        if argv[0] == "rotate-nonce" and "production" in argv:
            # the local AWS's own client: not recorded as the tool's
            local_aws.client("dynamodb").update_table(
                TableName=PROD.consent_table, DeletionProtectionEnabled=False
            )
            local_aws.client("cloudformation").update_termination_protection(
                StackName=PROD.root_stack, EnableTerminationProtection=False
            )
        current["command"] = command
        result = cli(*argv)
        assert result.code in (0, 2), f"{command}: {result.err}"
    table = documented()
    missing = {
        command: sorted(op for op in ops if op not in table.get(command, {}))
        for command, ops in seen.items()
    }
    assert {c: ops for c, ops in missing.items() if ops} == {}
    uncited = [
        (command, op)
        for command, rows in table.items()
        for op, row in rows.items()
        if not PAGE.search(row)
    ]
    assert uncited == []


def test_every_command_of_the_cli_has_a_section():
    from mirror_infra.cli import parser

    commands = set(parser()._subparsers._group_actions[0].choices)
    assert commands - set(documented()) == set()
