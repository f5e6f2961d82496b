"""plan/apply --express: change sets in express mode (DeploymentConfig Mode EXPRESS), offered
where it is safe and never by default; production refuses it unless named."""

from __future__ import annotations

import json

import pytest

from mirror_infra.deploy.context import Deployment
from mirror_infra.errors import ConfigError
from tests.advice import follow_tool, tool_commands
from tests.expected import ExpectedNames

PROD = ExpectedNames("production")

STAGING = "mirror-dissonance-staging"


def _deployment_configs(local_aws, stack: str) -> list[dict]:
    cfn = local_aws.client("cloudformation")
    return [
        cfn.describe_change_set(ChangeSetName=s["ChangeSetId"]).get("DeploymentConfig", {})
        for s in cfn.list_change_sets(StackName=stack)["Summaries"]
    ]


def test_plan_express_makes_an_express_change_set_that_apply_runs(cli, local_aws):
    """The change set carries Mode EXPRESS with DisableRollback false given explicitly (the
    API reference's default, which reports of express mode contradict), the saved plan knows
    it from DescribeChangeSet, and applying it finishes the environment as usual."""
    assert cli("bootstrap").code == 0
    planned = cli("plan", "--express", "--out", "express.plan.json")
    assert planned.code == 2, planned.text
    assert "express mode" in planned.out + planned.err
    assert _deployment_configs(local_aws, STAGING) == [
        {"Mode": "EXPRESS", "DisableRollback": False}
    ]
    with open("express.plan.json", encoding="utf-8") as saved:
        assert json.load(saved)["express"] is True
    applied = cli("apply", "--plan", "express.plan.json")
    assert applied.code == 0, applied.text
    assert "CREATE_COMPLETE" in applied.err


def test_express_is_never_the_default(cli, local_aws):
    assert cli("bootstrap").code == 0
    planned = cli("plan", "--out", "standard.plan.json")
    assert planned.code == 2, planned.text
    assert _deployment_configs(local_aws, STAGING) == [{}]
    assert "express mode" not in planned.out + planned.err


def test_production_refuses_express_unless_named(cli, local_aws):
    """One line, exit 1, nothing made: no stack, no change set."""
    assert cli("bootstrap", "--env", "production").code == 0
    refused = cli("plan", "--env", "production", "--express")
    assert refused.code == 1
    assert refused.err.strip().splitlines()[-1].startswith("error: --express on production")
    assert "--confirm-env production" in refused.err
    stacks = local_aws.client("cloudformation").list_stacks()["StackSummaries"]
    assert PROD.root_stack not in {s["StackName"] for s in stacks}
    wrong = cli("plan", "--env", "production", "--express", "--confirm-env", "staging")
    assert wrong.code == 1 and "error: --express on production" in wrong.err
    named = cli("plan", "--env", "production", "--express", "--confirm-env", "production")
    assert named.code == 2, named.text
    assert "express mode" in named.out + named.err


def test_a_saved_express_plan_of_production_needs_the_name_to_apply(cli, local_aws):
    """Without the name the apply refuses and runs nothing; the command the saved plan's line
    advises carries the name, and runs as printed."""
    assert cli("bootstrap", "--env", "production").code == 0
    args = ("--env", "production", "--express", "--confirm-env", "production")
    planned = cli("plan", *args, "--out", "prod.plan.json")
    assert planned.code == 2
    refused = cli("apply", "--env", "production", "--plan", "prod.plan.json")
    assert refused.code == 1
    assert "error: --express on production" in refused.err
    status = local_aws.client("cloudformation").describe_stacks(StackName=PROD.root_stack)
    assert status["Stacks"][0]["StackStatus"] == "REVIEW_IN_PROGRESS"  # nothing executed
    (advised,) = tool_commands(planned.err)
    assert "--confirm-env production" in advised, advised
    applied = follow_tool(advised, cli)
    assert applied.code == 0, applied.text
    status = local_aws.client("cloudformation").describe_stacks(StackName=PROD.root_stack)
    assert status["Stacks"][0]["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")


def test_a_saved_plan_out_of_express_mode_advises_no_confirmation(cli, local_aws):
    assert cli("bootstrap", "--env", "production").code == 0
    planned = cli("plan", "--env", "production", "--out", "prod.plan.json")
    assert planned.code == 2
    (advised,) = tool_commands(planned.err)
    assert "--confirm-env" not in advised, advised


def test_a_saved_express_plan_edited_out_of_express_mode_is_refused(cli, local_aws, project):
    """The mode is the change set's own (DescribeChangeSet's DeploymentConfig): editing the
    file's `express` to false does not skip production's --confirm-env (issue 25)."""
    assert cli("bootstrap", "--env", "production").code == 0
    args = ("--env", "production", "--express", "--confirm-env", "production")
    assert cli("plan", *args, "--out", "prod.plan.json").code == 2
    saved = json.loads((project / "prod.plan.json").read_text())
    (project / "prod.plan.json").write_text(json.dumps({**saved, "express": False}))
    refused = cli("apply", "--env", "production", "--plan", "prod.plan.json")
    assert refused.code == 1, refused.text
    assert refused.err.strip().splitlines()[-1] == (
        "error: the plan's express is False, but here it is True (the file was edited or is "
        "for another target); run 'plan' again"
    )
    status = local_aws.client("cloudformation").describe_stacks(StackName=PROD.root_stack)
    assert status["Stacks"][0]["StackStatus"] == "REVIEW_IN_PROGRESS"  # nothing executed


def test_the_library_refuses_unconfirmed_express_on_production_before_any_aws_call(project):
    """The rule is the library's (issue 22): opening a production Deployment in express mode
    without its name refuses, before a target is even reached (nothing listens here)."""
    for confirmed in (None, "staging"):
        with pytest.raises(ConfigError, match="^--express on production: "):
            Deployment.open("production", None, True, None, express=True, confirmed_env=confirmed)
    named = Deployment.open(
        "production", None, True, None, express=True, confirmed_env="production"
    )
    assert named.express and named.confirmed_env == "production"
    assert Deployment.open("staging", None, True, None, express=True).express  # not protected
