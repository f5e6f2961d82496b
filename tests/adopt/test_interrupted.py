"""Issue 26, finding 2: an `adopt` killed after any of its steps loses nothing, whatever the user
then does as the tool tells them.

The kill is a process death as AWS sees it: the operation already sent runs to its end (the
local AWS's instant mode ends it inside the call), and the tool makes no call after that. Then
a careless user runs `apply --yes`, and follows every piece of advice the tool prints, to the
letter, until a command succeeds. The tables, their items, the bucket's object versions, the
key and the nonce must be exactly as Terraform left them, and the environment adopted."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import botocore.client
import pytest

from tests.adopt.conftest import unchanged
from tests.adopt.terraformed import STAGING, terraform_staging
from tests.advice import follow_tool, tool_commands
from tests.localaws.stacks import stuck_in_rollback

# what adopt runs on the Terraform-made staging (docs/adopt.md, "The steps"): Kms, Dynamodb,
# Monitoring and Storage each made standalone by IMPORT then brought to their template
# (2 x 4), Iam (nothing of it exists: Terraform named its role otherwise) created standalone
# (1), the root created (1), the stacks nested into it (1), the converge from the root (1);
# CreateChangeSet #1 makes the first standalone stack (REVIEW_IN_PROGRESS until executed),
# #11 the import that nests them
EXECUTIONS = 12


class Killed(BaseException):
    """The process died: nothing in the tool may catch it."""


def _kill_after(monkeypatch, operation: str, nth: int) -> dict:
    """From the `nth` successful `operation` on, every AWS call of this process dies."""
    real = botocore.client.BaseClient._make_api_call
    seen = {"count": 0, "dead": False}

    def call(client, name, params):
        if seen["dead"]:
            raise Killed(f"dead since {operation} #{nth}")
        answer = real(client, name, params)
        if name == operation:
            seen["count"] += 1
            if seen["count"] == nth:
                seen["dead"] = True
                raise Killed(f"killed right after {operation} #{nth}")
        return answer

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", call)
    return seen


_QUOTED = re.compile(r"'mirror-infra ((?:adopt|apply|plan|destroy)[^']*)'")
_ALLOW = re.compile(r"--allow-data-loss [A-Za-z0-9.]+")


_PARAMS_LINE = re.compile(r"'(adopted: \[[A-Za-z, ]+\])'")


def _advice(previous: list[str], printed: str, params: Path) -> list[str] | None:
    """What a user does next from what the tool printed: a quoted command, run as written (with
    --yes, since no one is at a terminal); a params line, added to the params file, then the
    last command again; else the flags it names, added to the last command."""
    line = _PARAMS_LINE.search(printed)
    if line:
        params.write_text(
            params.read_text().replace("data_safety:\n", f"data_safety:\n  {line.group(1)}\n")
        )
        return previous
    quoted = _QUOTED.findall(printed)
    if quoted:
        argv = shlex.split(quoted[-1])
        if argv[0] in ("adopt", "apply") and "--yes" not in argv and "--plan" not in argv:
            argv.append("--yes")
        return argv
    flags = _ALLOW.findall(printed)
    if flags:
        return previous + [part for flag in flags for part in flag.split()]
    return None


def _key_state(local_aws, key_id: str) -> str:
    return local_aws.client("kms").describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"]


@pytest.mark.parametrize(
    ("operation", "nth"),
    [("ExecuteChangeSet", n) for n in range(1, EXECUTIONS + 1)]
    + [("CreateChangeSet", 1), ("CreateChangeSet", 11)],
)
def test_adopt_killed_after_a_step_loses_nothing_whatever_the_user_then_follows(
    cli, local_aws, adopting, capsys, operation, nth
):
    made = terraform_staging(local_aws)
    assert cli("bootstrap").code == 0
    with pytest.MonkeyPatch.context() as patch, pytest.raises(Killed):
        seen = _kill_after(patch, operation, nth)
        cli("adopt", "--yes")
    assert seen["dead"], f"adopt ended before its {operation} #{nth}"
    capsys.readouterr()  # what the killed run printed is gone with it

    argv = ["apply", "--yes"]  # what a careless user runs next
    followed = []
    for _ in range(5):
        result = cli(*argv)
        followed.append(f"$ mirror-infra {' '.join(argv)} -> {result.code}\n{result.err}")
        if result.code == 0:
            break
        unchanged(local_aws, made)  # at every point, not only at the end
        assert _key_state(local_aws, made.key_id) == "Enabled"
        argv = _advice(argv, result.err, adopting)
        assert argv is not None, "the tool gave no way on:\n" + "\n".join(followed)
    else:
        pytest.fail("no end to the advice:\n" + "\n".join(followed))
    transcript = "\n".join(followed)
    assert "--allow-data-loss" not in transcript, transcript
    unchanged(local_aws, made)
    assert _key_state(local_aws, made.key_id) == "Enabled"
    cfn = local_aws.client("cloudformation")
    root = cfn.describe_stacks(StackName=STAGING.root_stack)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in root["Outputs"]}
    assert outputs["KmsKeyArn"].endswith(made.key_id)
    assert root["StackStatus"] in ("UPDATE_COMPLETE", "IMPORT_COMPLETE"), transcript
    # finished: every service nested, nothing left of the adoption (state read from AWS)
    held = cfn.describe_stack_resources(StackName=STAGING.root_stack)["StackResources"]
    assert {r["LogicalResourceId"] for r in held} == {
        "Kms",
        "Dynamodb",
        "Storage",
        "Monitoring",
        "Iam",
    }
    assert "did not finish" not in cli("plan", "--revert-drift").err  # no longer unfinished


def test_an_unfinished_adoption_makes_every_changing_command_refuse_and_point_to_adopt(
    cli, local_aws, adopting, capsys
):
    """Until adopt has finished, a command that would change the environment refuses in one
    line and names 'mirror-infra adopt'; the state comes from AWS (a fresh process reads it)."""
    made = terraform_staging(local_aws)
    assert cli("bootstrap").code == 0
    with pytest.MonkeyPatch.context() as patch, pytest.raises(Killed):
        _kill_after(patch, "ExecuteChangeSet", 3)
        cli("adopt", "--yes")
    capsys.readouterr()
    events = {
        s["StackName"]: len(
            local_aws.client("cloudformation").describe_stack_events(StackName=s["StackId"])[
                "StackEvents"
            ]
        )
        for s in local_aws.client("cloudformation").describe_stacks()["Stacks"]
    }
    for argv in (
        ("plan",),
        ("apply", "--yes"),
        ("plan", "--revert-drift"),
        ("destroy", "--yes"),
        ("rotate-nonce", "--yes"),
        ("smoke", "--yes"),
    ):
        refused = cli(*argv)
        assert refused.code == 1, (argv, refused.text)
        line = refused.err.strip().splitlines()[-1]
        (advised,) = tool_commands(line)
        assert advised == "mirror-infra adopt --env staging --local", (argv, refused.err)
        assert "--allow-data-loss" not in refused.text
    after = {
        s["StackName"]: len(
            local_aws.client("cloudformation").describe_stack_events(StackName=s["StackId"])[
                "StackEvents"
            ]
        )
        for s in local_aws.client("cloudformation").describe_stacks()["Stacks"]
    }
    assert after == events  # nothing ran
    unchanged(local_aws, made)
    finished = follow_tool(advised, cli, "--yes")  # as printed: it finishes on the local AWS
    assert finished.code == 0, finished.text
    unchanged(local_aws, made)
    assert "did not finish" not in cli("plan").err


def test_a_root_stuck_in_its_rollback_is_settled_as_adopt_says(cli, local_aws, adopting, capsys):
    """An adoption killed once its stacks are nested, then the root's update stuck in its
    rollback (the local AWS's fault switch; as a failing converge would leave it): adopt names
    'apply --continue-rollback', which must run although the adoption is unfinished (it only
    continues the rollback), and adopt then finishes. Every step is followed as printed."""
    made = terraform_staging(local_aws)
    assert cli("bootstrap").code == 0
    with pytest.MonkeyPatch.context() as patch, pytest.raises(Killed):
        _kill_after(patch, "ExecuteChangeSet", 11)  # the import that nests the stacks
        cli("adopt", "--yes")
    capsys.readouterr()
    stuck_in_rollback(local_aws, STAGING.root_stack)
    argv, followed = ["adopt", "--yes"], []
    for _ in range(4):
        result = cli(*argv)
        followed.append(f"$ mirror-infra {' '.join(argv)} -> {result.code}\n{result.err}")
        if result.code == 0 and argv[0] == "adopt":
            break
        unchanged(local_aws, made)
        if result.code == 0:  # the way out done: back to what the user was doing
            argv = ["adopt", "--yes"]
            continue
        argv = _advice(argv, result.err, adopting)
        assert argv is not None, "the tool gave no way on:\n" + "\n".join(followed)
    else:
        pytest.fail("adopt did not finish:\n" + "\n".join(followed))
    assert any("--continue-rollback" in step for step in followed)
    unchanged(local_aws, made)
    assert _key_state(local_aws, made.key_id) == "Enabled"
