"""Guards are data too (issue 23): turning production's termination protection or its stack
policies off through params is a plan row refused unless named, like a change that loses data;
and apply's summary says what is in place afterwards, read back from AWS. Also the cases of
"What was found" end to end: a key disabled, and a property never reviewed, added by hand."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.deploy.test_protection import _denied
from tests.expected import ExpectedNames

PROD = ExpectedNames("production")


def test_the_tools_own_protect_step_passes_with_nothing_named(production, local_aws):
    """The update after production's first create turns deletion protection on
    (flow._protect_tables, allowed=set()): an in-place change the value rule accepts."""
    applied = production.applied
    assert "protecting Dynamodb.BlockCounterTable" in applied.err, applied.err
    assert "stack policies on 5 stack(s); termination protection on" in applied.err
    table = local_aws.client("dynamodb").describe_table(TableName=PROD.fp_events_table)
    assert table["Table"]["DeletionProtectionEnabled"] is True


def _params(project, **safety: bool) -> None:
    path = project / "params" / "production.yaml"
    text = path.read_text()
    for key, value in safety.items():
        text = text.replace(f"  {key}: true", f"  {key}: {'true' if value else 'false'}")
    path.write_text(text)


def _root(local_aws) -> dict:
    cfn = local_aws.client("cloudformation")
    (root,) = cfn.describe_stacks(StackName=PROD.root_stack)["Stacks"]
    return root


def _denying(local_aws) -> int:
    """Stacks of the environment whose policy denies anything."""
    cfn = local_aws.client("cloudformation")
    stacks = [PROD.root_stack] + [
        r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(StackName=PROD.root_stack)["StackResources"]
        if r["ResourceType"] == "AWS::CloudFormation::Stack"
    ]
    count = 0
    for stack in stacks:
        body = cfn.get_stack_policy(StackName=stack).get("StackPolicyBody")
        count += bool(body) and any(s["Effect"] == "Deny" for s in json.loads(body)["Statement"])
    return count


def test_guards_turned_off_by_params_are_rows_refused_unless_named(production, local_aws, project):
    _params(project, termination_protection=False, stack_policy=False)
    plan = production("plan", "--env", "production", "--json")
    assert plan.code == 1, plan.text
    rows = {c["logical_id"]: c for c in json.loads(plan.out)["changes"]}
    assert rows["TerminationProtection"]["risk"] == "loses data"
    assert rows["StackPolicy"]["risk"] == "loses data"
    assert "stack policies turned off on 5 stack(s)" in rows["StackPolicy"]["reason"]
    assert (
        plan.err.strip()
        .splitlines()[-1]
        .endswith("--allow-data-loss TerminationProtection --allow-data-loss StackPolicy")
    ), plan.err

    refused = production("apply", "--env", "production", "--yes")
    assert refused.code == 1
    assert "TerminationProtection (loses data)" in refused.err
    assert "StackPolicy (loses data)" in refused.err
    assert _root(local_aws)["EnableTerminationProtection"] is True
    assert _denying(local_aws) == 5

    # one named, the other still refused: nothing is turned off
    half = production(
        "apply", "--env", "production", "--yes", "--allow-data-loss", "TerminationProtection"
    )
    assert half.code == 1
    assert "StackPolicy (loses data)" in half.err
    assert _root(local_aws)["EnableTerminationProtection"] is True

    shown = production("plan", "--env", "production", "--allow-data-loss", "StackPolicy",
                       "--allow-data-loss", "TerminationProtection")  # fmt: skip
    assert shown.code == 2, shown.text
    assert "TerminationProtection" in shown.out and "Stack guard" in shown.out

    applied = production(
        "apply", "--env", "production", "--yes",
        "--allow-data-loss", "TerminationProtection", "--allow-data-loss", "StackPolicy",
    )  # fmt: skip
    assert applied.code == 0, applied.text
    assert "TerminationProtection" in applied.out  # shown like any other row
    assert "stack policies on 0 stack(s); termination protection off" in applied.err
    assert _root(local_aws)["EnableTerminationProtection"] is False
    assert _denying(local_aws) == 0
    assert production("plan", "--env", "production").code == 0  # nothing left to turn off


def test_the_summary_reads_back_what_is_in_place(production, local_aws, project):
    """Only termination protection named and turned off: the stack policies stay, and the
    summary says so (it used to print what params intended)."""
    # the alias and the bucket policy are stateful: the stack policies protect them too
    assert _denied(local_aws, "Kms") == {"Key", "KeyAlias"}
    assert _denied(local_aws, "Storage") == {"BaselinesBucket", "BaselinesBucketPolicy"}
    _params(project, termination_protection=False)
    applied = production(
        "apply", "--env", "production", "--yes", "--allow-data-loss", "TerminationProtection"
    )
    assert applied.code == 0, applied.text
    assert "stack policies on 5 stack(s); termination protection off" in applied.err


def test_finishing_never_turns_a_guard_off_unnamed(production, local_aws, project):
    """Every other caller of finishing (adopt, the protect step's way out) names nothing: the
    guards stay, and what it reports is what AWS holds."""
    from mirror_infra.deploy.context import Deployment
    from mirror_infra.deploy.finishing import finish

    _params(project, termination_protection=False, stack_policy=False)
    dep = Deployment.open("production", None, local=True, profile=None)
    done = finish(dep)
    assert (done.policies, done.termination_protection) == (5, True)
    assert _root(local_aws)["EnableTerminationProtection"] is True


def test_a_saved_plan_turning_a_guard_off_runs_only_while_params_still_say_so(
    production, local_aws, project, tmp_path
):
    _params(project, termination_protection=False)
    saved = tmp_path / "plan.json"
    named = ("--allow-data-loss", "TerminationProtection")
    assert production("plan", "--env", "production", "--out", str(saved), *named).code == 2
    path = project / "params" / "production.yaml"
    path.write_text(path.read_text().replace("protection: false", "protection: true"))
    stale = production("apply", "--env", "production", "--plan", str(saved), *named)
    assert stale.code == 1
    assert "run 'plan' again" in stale.err
    assert _root(local_aws)["EnableTerminationProtection"] is True


def _kms_with(monkeypatch, project, **props) -> None:
    """The key as the templates build it, with `props` set by hand."""
    from templates_src import root

    built = root.SERVICES["Kms"]

    def edited(cfg):
        template = built(cfg)
        for name, value in props.items():
            setattr(template.resources["Key"], name, value)
        return template

    monkeypatch.setitem(root.SERVICES, "Kms", edited)
    shutil.rmtree(project / "build", ignore_errors=True)


@pytest.mark.parametrize(
    ("props", "shown"),
    [
        ({"Enabled": False}, "key disabled: everything encrypted under it"),
        # a property the tool never reviewed (AWS added it in 2024): risky until it is
        ({"RotationPeriodInDays": 90}, "RotationPeriodInDays changes, and it is not on the"),
    ],
    ids=["key disabled", "a property never reviewed"],
)
def test_a_key_change_nobody_judged_is_refused_unless_named(
    deployed, local_aws, monkeypatch, project, props, shown
):
    _kms_with(monkeypatch, project, **props)
    plan = deployed("plan", "--json")
    assert plan.code == 1, plan.text
    (row,) = [c for c in json.loads(plan.out)["changes"] if c["risk"] != "safe"]
    assert (row["stack"], row["logical_id"], row["risk"]) == ("Kms", "Key", "loses data")
    assert shown in row["reason"]
    refused = deployed("apply", "--yes")
    assert refused.code == 1
    assert "Kms.Key (loses data)" in refused.err
    key = local_aws.client("kms").describe_key(KeyId=ExpectedNames("staging").key_alias)
    assert key["KeyMetadata"]["Enabled"] is True
    assert deployed("apply", "--yes", "--allow-data-loss", "Key").code == 0
