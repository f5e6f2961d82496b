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
