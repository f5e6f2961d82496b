# ruff: noqa: E501 - the case tables read best one case a line
"""Build integrity: what is deployed is what was built and what was reviewed. A tampered copy
under a content-addressed key is replaced, a hand-edited saved plan is refused, and build
removes only its own outputs."""

from __future__ import annotations

import json
import re

ARTIFACTS = "mirror-infra-artifacts-123456789012-us-east-1"


def test_a_tampered_template_in_s3_is_replaced_not_trusted(cli, local_aws, project):
    assert cli("bootstrap").code == 0
    assert cli("build").code == 0
    (kms,) = (project / "build" / "staging").glob("kms-*.json")
    key = f"templates/staging/{kms.name}"
    s3 = local_aws.client("s3")
    s3.put_object(Bucket=ARTIFACTS, Key=key, Body=b'{"Resources": {}}')  # same key, other bytes

    applied = cli("apply", "--yes")
    assert applied.code == 0, applied.text
    assert s3.get_object(Bucket=ARTIFACTS, Key=key)["Body"].read() == kms.read_bytes()
    aliases = local_aws.client("kms").list_aliases()["Aliases"]
    assert "alias/mirror-dissonance-staging" in {a["AliasName"] for a in aliases}


def _saved_plan(deployed, project) -> dict:
    params = project / "params" / "staging.yaml"
    params.write_text(
        re.sub(r"log_retention_days: \d+", "log_retention_days: 90", params.read_text())
    )
    assert deployed("plan", "--out", "p.plan.json").code == 2
    return json.loads((project / "p.plan.json").read_text())


def test_a_saved_plan_with_its_rows_edited_is_refused(deployed, project, local_aws):
    saved = _saved_plan(deployed, project)
    assert saved["changes"]
    (project / "p.plan.json").write_text(json.dumps({**saved, "changes": []}))
    applied = deployed("apply", "--plan", "p.plan.json")
    assert applied.code == 1
    assert "the plan's rows differ from its change set" in applied.err
    (group,) = local_aws.client("logs").describe_log_groups(
        logGroupNamePrefix="/mirror-dissonance/staging/app"
    )["logGroups"]
    assert group["retentionInDays"] == 30  # nothing applied


def test_a_saved_plan_without_a_change_set_is_refused(deployed, project):
    saved = _saved_plan(deployed, project)
    (project / "p.plan.json").write_text(
        json.dumps({**saved, "changes": [], "change_set_id": None})
    )
    applied = deployed("apply", "--plan", "p.plan.json")
    assert applied.code == 1
    assert applied.err.strip().splitlines()[-1] == (
        "error: the plan names no change set: 'plan --out' saves only plans that have one, so "
        "this file was edited; run 'plan' again"
    )


def _retention(local_aws) -> int:
    (group,) = local_aws.client("logs").describe_log_groups(
        logGroupNamePrefix="/mirror-dissonance/staging/app"
    )["logGroups"]
    return group["retentionInDays"]


# (field, edited value, the refusal's expected last line after "error: ")
TARGET_EDITS = [
    ("stack_name", "mirror-dissonance-production", "the plan's stack_name is 'mirror-dissonance-production', but here it is 'mirror-dissonance-staging' (the file was edited or is for another target); run 'plan' again"),
    ("env", "production", "the plan's env is 'production', but here it is 'staging' (the file was edited or is for another target); pass the matching --env/--region"),
    ("region", "eu-west-1", "the plan's region is 'eu-west-1', but here it is 'us-east-1' (the file was edited or is for another target); pass the matching --env/--region"),
    ("account", "210987654321", "the plan's account is '210987654321', but here it is '123456789012' (the file was edited or is for another target); run 'plan' again with that account's credentials"),
    ("endpoint", "", "the plan's endpoint is '', but here it is "),
    ("stack_id", "arn:aws:cloudformation:us-east-1:123456789012:stack/mirror-dissonance-production/x", "the plan's stack_id is 'arn:aws:cloudformation:us-east-1:123456789012:stack/mirror-dissonance-production/x', but here it is 'arn:aws:cloudformation:us-east-1:123456789012:stack/mirror-dissonance-staging/"),
    ("create", True, "mirror-dissonance-staging was created ("),
    ("protect_after", ["Dynamodb.FpEventsTable"], "the plan's protect_after is ['Dynamodb.FpEventsTable'], but here it is [] (the file was edited or is for another target); run 'plan' again"),
]  # fmt: skip


def test_a_saved_plan_naming_another_target_is_refused_field_by_field(deployed, project, local_aws):
    """Each field that names the target is compared with the target (issue 25: an edited
    stack_name ran and exited 0): one line naming the field, the saved value and the actual
    one; nothing applied. The unedited file then applies."""
    saved = _saved_plan(deployed, project)
    edits = [*TARGET_EDITS]
    bucket = saved["parameters"]["ArtifactsBucket"]
    edits.append(
        ("parameters", {**saved["parameters"], "ArtifactsBucket": "someone-elses-bucket"},
         f"the plan's parameters.ArtifactsBucket is 'someone-elses-bucket', but here it is '{bucket}'")
    )  # fmt: skip
    for field, value, expected in edits:
        (project / "p.plan.json").write_text(json.dumps({**saved, field: value}))
        applied = deployed("apply", "--plan", "p.plan.json")
        assert applied.code == 1, (field, applied.text)
        assert "Traceback" not in applied.err
        assert applied.err.strip().splitlines()[-1].startswith(f"error: {expected}"), (
            field,
            applied.err,
        )
        assert _retention(local_aws) == 30  # nothing applied
    (project / "p.plan.json").write_text(json.dumps(saved))
    applied = deployed("apply", "--plan", "p.plan.json")
    assert applied.code == 0, applied.text
    assert _retention(local_aws) == 90


# (what is edited, the edit, the expected text after "not a plan saved by ... (")
TYPE_EDITS = [
    ("allowed a string", {"allowed": "FpEventsTable"}, "allowed: expected a list, got str 'FpEventsTable')"),
    ("an unknown field", {"approved_by": "me"}, "approved_by: unknown key)"),
    ("express null", {"express": None}, "express: expected true or false, got NoneType None)"),
    ("express a string", {"express": "false"}, "express: expected true or false, got str 'false')"),
    ("an older format", {"format": 1}, "format 1, not 3; run 'plan' again)"),
]  # fmt: skip


def test_a_saved_plan_with_a_field_of_the_wrong_type_is_refused(deployed, project, local_aws):
    """Every field typed (issue 25: `allowed` as a string was accepted and executed)."""
    saved = _saved_plan(deployed, project)
    for what, edit, expected in TYPE_EDITS:
        (project / "p.plan.json").write_text(json.dumps({**saved, **edit}))
        applied = deployed("apply", "--plan", "p.plan.json")
        assert applied.code == 1, (what, applied.text)
        last = applied.err.strip().splitlines()[-1]
        assert last == (
            "error: --plan p.plan.json: not a plan saved by 'mirror-infra plan --out' (" + expected
        ), (what, last)
        assert _retention(local_aws) == 30


def test_a_saved_plan_pointing_at_another_stacks_change_set_is_refused(
    deployed, project, local_aws
):
    """A change set ARN names its stack: another stack's (production's create here), with its
    rows copied too, never runs on staging's plan."""
    assert deployed("bootstrap", "--env", "production").code == 0
    assert deployed("plan", "--env", "production", "--out", "prod.plan.json").code == 2
    prod = json.loads((project / "prod.plan.json").read_text())
    saved = _saved_plan(deployed, project)
    (project / "p.plan.json").write_text(
        json.dumps({**saved, "change_set_id": prod["change_set_id"], "changes": prod["changes"]})
    )
    applied = deployed("apply", "--plan", "p.plan.json")
    assert applied.code == 1, applied.text
    assert (
        applied.err.strip()
        .splitlines()[-1]
        .startswith(
            f"error: the plan's change_set_id is '{prod['change_set_id']}', but here it is 'a change "
            "set of arn:aws:cloudformation:us-east-1:123456789012:stack/mirror-dissonance-staging/"
        )
    ), applied.err
    status = local_aws.client("cloudformation").describe_stacks(
        StackName="mirror-dissonance-production"
    )["Stacks"][0]["StackStatus"]
    assert status == "REVIEW_IN_PROGRESS"  # production's change set did not run
    assert _retention(local_aws) == 30


def test_build_removes_only_its_own_outputs(project):
    from mirror_infra.cli import main

    assert main(["build"]) == 0
    mine = project / "build" / "staging" / "staging.plan.json"
    mine.write_text("{}")
    params = project / "params" / "staging.yaml"
    params.write_text(
        params.read_text().replace("log_retention_days: 30", "log_retention_days: 90")
    )
    assert main(["build"]) == 0  # monitoring's file name changes; the old one goes
    assert mine.read_text() == "{}"
    manifest = json.loads((project / "build" / "staging" / "manifest.json").read_text())
    on_disk = {p.name for p in (project / "build" / "staging").glob("*.json")}
    assert on_disk == {*manifest["sha256"], "manifest.json", "staging.plan.json"}


def test_when_another_apply_got_there_first_it_says_so(deployed, project, local_aws, monkeypatch):
    """Two applies planned before either ran: AWS makes the later one's change set OBSOLETE
    and refuses to execute it (API_ExecuteChangeSet.html, InvalidChangeSetStatus)."""
    from mirror_infra import ui

    params = project / "params" / "staging.yaml"
    params.write_text(
        re.sub(r"log_retention_days: \d+", "log_retention_days: 90", params.read_text())
    )
    cfn = local_aws.client("cloudformation")

    def the_other_apply_runs_first(question, expected=None):
        # another checkout updates the stack while this one waits for its yes
        kept = ("ArtifactsBucket", "ArtifactsPrefix", "AppRoleTrustedServices")
        cfn.update_stack(
            StackName="mirror-dissonance-staging",
            UsePreviousTemplate=True,
            Parameters=[
                *({"ParameterKey": k, "UsePreviousValue": True} for k in kept),
                {"ParameterKey": "AlertEmail", "ParameterValue": "other@example.com"},
            ],
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )
        cfn.get_waiter("stack_update_complete").wait(StackName="mirror-dissonance-staging")
        return True

    monkeypatch.setattr(ui, "confirm", the_other_apply_runs_first)
    applied = deployed("apply")
    assert applied.code == 1
    assert applied.err.strip().splitlines()[-1] == (
        "error: another apply got there first: mirror-dissonance-staging changed after this plan "
        "was made, so its change set can no longer run (nothing of it was applied); run 'plan' "
        "again"
    )
    (group,) = local_aws.client("logs").describe_log_groups(
        logGroupNamePrefix="/mirror-dissonance/staging/app"
    )["logGroups"]
    assert group["retentionInDays"] == 30
