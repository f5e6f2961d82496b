"""`adopt` on the local AWS: an environment made without this tool (as the source document's
Terraform makes it) is brought under the stacks without changing its data."""

from __future__ import annotations

import json
import re

from tests.adopt.conftest import unchanged
from tests.adopt.terraformed import STAGING, TF_BUCKET, TF_DASHBOARD, terraform_staging
from tests.localaws.stacks import template, two_alarms


def _stack(local_aws) -> dict:
    cfn = local_aws.client("cloudformation")
    return cfn.describe_stacks(StackName=STAGING.root_stack)["Stacks"][0]


def test_a_terraform_made_environment_is_adopted_without_losing_a_byte(
    cli, local_aws, adopting, project
):
    made = terraform_staging(local_aws)
    assert cli("bootstrap").code == 0
    adopted = cli("adopt", "--yes")
    assert adopted.code == 0, adopted.text
    unchanged(local_aws, made)
    for imported in (
        "Kms.Key",
        "Dynamodb.FpEventsTable",
        "Monitoring.OpsAlertsTopic",
        "Storage.BaselinesBucket",
        "Monitoring.CircuitBreakerTriggeredAlarm",
    ):
        assert any(imported in line and "imported" in line for line in adopted.out.splitlines())
    root = _stack(local_aws)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in root["Outputs"]}
    assert outputs["FpEventsTableName"] == STAGING.fp_events_table
    assert outputs["BaselinesBucketName"] == TF_BUCKET
    assert outputs["KmsKeyArn"].endswith(made.key_id)  # the same key: the nonce still decrypts
    assert "exists; kept as it is" in adopted.out
    # Terraform's dashboard, named before SPEC §2 put the region in account-wide names, is
    # listed, not adopted, and still there (the stacks made their own)
    assert f"dashboard {TF_DASHBOARD}: left in place" in adopted.out
    dashboards = local_aws.client("cloudwatch").list_dashboards()["DashboardEntries"]
    assert {d["DashboardName"] for d in dashboards} == {
        TF_DASHBOARD,
        f"{TF_DASHBOARD}-us-east-1",
    }
    # Terraform's log group has no key; the templates give it the environment's: verify says
    # so (only that row), drift shows it, and the revert below puts the key on
    failing = {c["name"]: c for c in cli.json_any("verify")["checks"] if not c["ok"]}
    assert set(failing) == {"log group"}, failing
    assert "not encrypted" in failing["log group"]["evidence"]

    # Terraform's tags, descriptions and the like differ from the templates: drift
    assert "plan --revert-drift" in adopted.err
    assert cli("drift").code == 2
    # Terraform's bucket expires no old versions: putting the template's 90 days back would
    # delete versions, which is losing data and is refused unless named
    refused = cli("plan", "--revert-drift")
    assert refused.code == 1
    assert "--allow-data-loss BaselinesBucket" in refused.err
    planned = cli(
        "plan",
        "--revert-drift",
        "--allow-data-loss",
        "BaselinesBucket",
        # Terraform's key-policy grants come back with other conditions: named (issue 23)
        "--allow-data-loss",
        "Key",
        "--out",
        str(project / "revert.json"),
    )
    assert planned.code == 2, planned.text
    assert "Drifted properties the plan puts back" in planned.out
    applied = cli("apply", "--plan", str(project / "revert.json"))
    assert applied.code == 0, applied.text
    in_sync = cli("drift")
    assert in_sync.code == 0, in_sync.text
    verified = cli("verify")
    assert verified.code == 0, verified.text
    unchanged(local_aws, made)

    # adopted data keeps Retain: switching it to staging's Delete is losing data, refused ...
    switched = cli("plan")
    assert switched.code == 1
    assert "FpEventsTable (loses data)" in switched.err, switched.err
    # ... until the params say the resources were adopted, with the line adopt printed
    line = re.search(r"adopted: \[[A-Za-z, ]+\]", adopted.err).group(0)
    params = project / "params" / "staging.yaml"
    params.write_text(params.read_text().replace("data_safety:\n", f"data_safety:\n  {line}\n"))
    assert cli("plan").code == 0


def test_plan_names_the_resource_that_exists_and_points_to_adopt(cli, local_aws):
    """CloudFormation's pre-deployment validation reports a name conflict at change-set
    creation (validate-stack-deployments.html); plan says which resource, and that adopt
    exists."""
    made = terraform_staging(local_aws, everything=False)
    assert cli("bootstrap").code == 0
    planned = cli("plan")
    assert planned.code == 1
    assert "FpEventsTable" in planned.err or "ConsentTable" in planned.err, planned.err
    assert "mirror-infra adopt" in planned.err
    unchanged(local_aws, made)


def test_a_table_with_another_key_schema_stops_the_adoption_before_anything_runs(
    cli, local_aws, adopting
):
    made = terraform_staging(local_aws, fp_events_keys=("id", None))
    assert cli("bootstrap").code == 0
    refused = cli("adopt")  # refused before anything is asked
    assert refused.code == 1
    assert "cannot be adopted as they are" in refused.err
    conflict = next(line for line in refused.out.splitlines() if "FpEventsTable" in line)
    assert "conflict" in conflict
    assert "key schema is id HASH" in refused.out
    assert "nothing changed" in refused.err
    cfn = local_aws.client("cloudformation")
    assert STAGING.root_stack not in {s["StackName"] for s in cfn.describe_stacks()["Stacks"]}
    unchanged(local_aws, made)


def test_a_resource_another_stack_manages_is_a_conflict(cli, local_aws, adopting):
    made = terraform_staging(local_aws)
    cfn = local_aws.client("cloudformation")
    local_aws.client("logs").delete_log_group(logGroupName="/mirror-dissonance/staging/app")
    group = {
        "Type": "AWS::Logs::LogGroup",
        "Properties": {"LogGroupName": "/mirror-dissonance/staging/app"},
    }
    cfn.create_stack(
        StackName="ut-other-owner",
        TemplateBody=json.dumps({"Resources": {"Group": group}}),
    )
    assert cli("bootstrap").code == 0
    refused = cli("adopt", "--yes")
    assert refused.code == 1
    assert "stack ut-other-owner already manages it" in refused.err
    unchanged(local_aws, made)


def test_only_the_tables_exist_so_those_are_imported_and_the_rest_created(cli, local_aws, project):
    made = terraform_staging(local_aws, everything=False)
    assert cli("bootstrap").code == 0
    adopted = cli("adopt", "--yes")
    assert adopted.code == 0, adopted.text
    rows = {line.split()[1]: line for line in adopted.out.splitlines() if line.startswith("│ ")}
    for table in ("Dynamodb.FpEventsTable", "Dynamodb.ConsentTable", "Dynamodb.BlockCounterTable"):
        assert "imported" in rows[table]
    for created in ("Kms.Key", "Monitoring.OpsAlertsTopic", "Storage.BaselinesBucket"):
        assert "created" in rows[created]
    unchanged(local_aws, made)
    assert _stack(local_aws)["StackStatus"] == "UPDATE_COMPLETE"
    assert "nonce /guardian/staging/redaction_nonce_v1: created" in adopted.out


def test_pitr_turned_off_out_of_band_is_shown_three_ways_and_put_back(cli, local_aws, project):
    """Drift-aware change sets compare the actual state, the last deployment and the template
    (drift-aware-change-sets.html); applying one puts the template's value back."""
    assert cli("bootstrap").code == 0
    assert cli("apply", "--yes").code == 0
    ddb = local_aws.client("dynamodb")
    ddb.update_continuous_backups(
        TableName=STAGING.consent_table,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False},
    )
    drifted = cli("drift")
    assert drifted.code == 2
    assert "plan --revert-drift" in drifted.err
    shown = cli.json("plan", "--revert-drift")
    (pitr,) = [d for d in shown["drifted"] if "PointInTimeRecovery" in d["property"]]
    assert pitr["resource"] == "Dynamodb.ConsentTable"
    # the template's value, the last deployment's, the actual one
    values = [json.loads(pitr[k]) for k in ("template", "previous", "actual")]
    assert [v["PointInTimeRecoveryEnabled"] for v in values] == [True, True, False]
    # a saved revert whose change set is gone (deleted out of band) is refused, nothing runs
    stale = project / "stale.json"
    assert cli("plan", "--revert-drift", "--out", str(stale)).code == 2
    (revert,) = json.loads(stale.read_text())["reverts"]
    local_aws.client("cloudformation").delete_change_set(ChangeSetName=revert["change_set_id"])
    refused = cli("apply", "--plan", str(stale))
    assert refused.code == 1
    assert "no longer exists" in refused.err
    saved = project / "revert.json"
    planned = cli("plan", "--revert-drift", "--out", str(saved))
    assert planned.code == 2, planned.text
    assert "Drifted properties the plan puts back" in planned.out
    applied = cli("apply", "--plan", str(saved))
    assert applied.code == 0, applied.text
    backups = ddb.describe_continuous_backups(TableName=STAGING.consent_table)
    pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"
    assert cli("drift").code == 0
    assert cli("plan", "--revert-drift").code == 0  # nothing left to put back


def test_a_saved_survey_runs_only_while_the_resources_are_as_surveyed(
    cli, local_aws, adopting, project
):
    made = terraform_staging(local_aws)
    assert cli("bootstrap").code == 0
    saved = project / "adopt.json"
    assert cli("adopt", "--out", str(saved)).code == 2
    # something changed out of band since the survey: a table to import is gone
    local_aws.client("dynamodb").delete_table(TableName=STAGING.consent_table)
    stale = cli("adopt", "--plan", str(saved))
    assert stale.code == 1
    assert "changed since the survey" in stale.err
    cfn = local_aws.client("cloudformation")
    assert STAGING.root_stack not in {s["StackName"] for s in cfn.describe_stacks()["Stacks"]}
    made.items.pop(STAGING.consent_table)
    unchanged(local_aws, made)


def test_a_saved_survey_runs_with_apply_as_a_saved_plan_does(cli, local_aws, adopting, project):
    made = terraform_staging(local_aws)
    assert cli("bootstrap").code == 0
    saved = project / "adopt.json"
    assert cli("adopt", "--out", str(saved)).code == 2
    applied = cli("apply", "--plan", str(saved))
    assert applied.code == 0, applied.text
    assert "converge mirror-dissonance-staging to the environment's templates" in applied.err
    assert _stack(local_aws)["StackStatus"] == "UPDATE_COMPLETE"
    unchanged(local_aws, made)


def test_bad_adopt_input_is_one_line_and_changes_nothing(cli, local_aws, project):
    for argv, expected in (
        (("adopt", "--plan", "missing.json"), "--plan missing.json: no such file"),
        (("adopt", "--out", "a.json", "--plan", "b.json"), "give one of them"),
        (("adopt", "--plan", "params/staging.yaml"), "not a survey saved by 'adopt --out'"),
    ):
        result = cli(*argv)
        assert result.code == 1, result.text
        lines = result.err.strip().splitlines()
        assert expected in lines[-1], result.err
        assert "Traceback" not in result.text
    assert local_aws.client("cloudformation").describe_stacks()["Stacks"] == []


def test_the_library_refuses_a_survey_with_a_conflict_before_any_call():
    """adopt() itself refuses, whoever calls it (not only the CLI, which asks first)."""
    from types import SimpleNamespace

    import pytest

    from mirror_infra.adopt.run import adopt
    from mirror_infra.adopt.survey import Action, Row, Survey
    from mirror_infra.deploy.flow import Hooks
    from mirror_infra.errors import AdoptError

    survey = Survey([Row("Dynamodb", "FpEventsTable", "AWS::DynamoDB::Table", Action.CONFLICT)])
    dep = SimpleNamespace(cfg=SimpleNamespace(name="staging"))  # no AWS behind it
    with pytest.raises(AdoptError, match="nothing changed"):
        adopt(dep, survey, Hooks())


def test_an_adoption_that_failed_while_creating_can_simply_run_again(cli, local_aws, adopting):
    """A failure late in step 1 (the local AWS's fault switch) rolls back what the step created
    and nothing else; adopt then runs again from the start."""
    made = terraform_staging(local_aws)
    assert cli("bootstrap").code == 0
    local_aws.settings(fail_create=["AppRole"])
    failed = cli("adopt", "--yes")
    assert failed.code == 1
    assert "AppRole" in failed.err
    unchanged(local_aws, made)
    local_aws.settings(fail_create=[])
    again = cli("adopt", "--yes")
    assert again.code == 0, again.text
    assert "deleting it first" in again.err
    unchanged(local_aws, made)


def test_an_adoption_that_failed_while_converging_goes_on_from_there(cli, local_aws, adopting):
    """The imports are done when the converge step fails (a metric filter it creates, the
    local AWS's fault switch) and rolls back: adopt again finds the imported resources in the
    environment's own stacks and finishes, keeping them at Retain."""
    made = terraform_staging(local_aws)
    assert cli("bootstrap").code == 0
    alarms = local_aws.client("cloudwatch").describe_alarms()["MetricAlarms"]
    local_aws.settings(fail_create=["CircuitBreakerTriggeredFilter"])
    failed = cli("adopt", "--yes")
    assert failed.code == 1
    assert "UPDATE_ROLLBACK_COMPLETE" in failed.err
    unchanged(local_aws, made)
    # the rollback returned the nested stacks to what they held after the imports: every
    # imported resource is still there (the alias, Terraform's alarms), none deleted
    aliases = local_aws.client("kms").list_aliases()["Aliases"]
    assert STAGING.key_alias in {a["AliasName"] for a in aliases}
    after = local_aws.client("cloudwatch").describe_alarms()["MetricAlarms"]
    assert {a["AlarmName"] for a in alarms} <= {a["AlarmName"] for a in after}
    local_aws.settings(fail_create=[])
    again = cli("adopt", "--yes")
    assert again.code == 0, again.text
    assert "going on from there" in again.err
    assert "in the stacks already" in again.out
    assert "adopted: [AppLogGroup, BaselinesBucket, BlockCounterTable" in again.err
    unchanged(local_aws, made)
    cfn = local_aws.client("cloudformation")
    filters = cfn.describe_stack_resources(StackName=_stack(local_aws)["StackId"])
    assert filters  # the root is there, and verify passes on the finished environment but
    # for the key Terraform's log group lacks (the revert-drift of the test above adds it)
    failing = {c["name"] for c in cli.json_any("verify")["checks"] if not c["ok"]}
    assert failing == {"log group"}


def _refused(cli) -> str:
    """adopt's one-line refusal (exit 1)."""
    refused = cli("adopt", "--yes")
    assert refused.code == 1, refused.text
    return refused.err.strip().splitlines()[-1]


def test_a_stack_stuck_after_a_failed_rollback_is_refused_with_the_way_out(
    cli, local_aws, adopting, project
):
    """A root stack left UPDATE_ROLLBACK_FAILED (the fault switch: an update fails, and so does
    rolling one resource back) cannot be imported into or updated until its rollback is
    continued (API_ContinueUpdateRollback); adopt says how, and changes nothing."""
    made = terraform_staging(local_aws)
    assert cli("bootstrap").code == 0
    cfn = local_aws.client("cloudformation")
    cfn.create_stack(StackName=STAGING.root_stack, TemplateBody=two_alarms(10, 10))
    local_aws.settings(fail_update=["Second"], fail_rollback=["First"])
    cfn.update_stack(StackName=STAGING.root_stack, TemplateBody=two_alarms(20, 20))
    before = cfn.describe_stack_events(StackName=STAGING.root_stack)["StackEvents"]
    saving = cli("adopt", "--out", "survey.json")  # not saved to fail later
    assert saving.code == 1 and "--continue-rollback" in saving.err, saving.text
    assert not (project / "survey.json").exists()
    line = _refused(cli)
    assert "is UPDATE_ROLLBACK_FAILED" in line
    assert line.endswith(
        "run 'mirror-infra apply --continue-rollback --env staging --local' (add --skip-resource "
        "First for the resources that cannot roll back)"
    ), line
    assert cfn.describe_stack_events(StackName=STAGING.root_stack)["StackEvents"] == before
    stacks = {s["StackName"] for s in cfn.describe_stacks()["Stacks"]}
    assert stacks == {STAGING.root_stack, "mirror-infra-bootstrap"}  # no nested stack made
    unchanged(local_aws, made)


def test_a_stack_left_failed_without_rollback_is_refused_and_left_as_it_is(
    cli, local_aws, adopting
):
    """CREATE_FAILED (a create with DisableRollback, API_CreateStack) is neither a stack adopt
    can go on from nor an empty one it may delete: refused, nothing changed."""
    made = terraform_staging(local_aws)
    assert cli("bootstrap").code == 0
    local_aws.settings(fail_create=["Second"])
    local_aws.client("cloudformation").create_stack(
        StackName=STAGING.root_stack, TemplateBody=two_alarms(10, 10), DisableRollback=True
    )
    assert _stack(local_aws)["StackStatus"] == "CREATE_FAILED"
    local_aws.settings(fail_create=[])
    assert _refused(cli).endswith(
        "mirror-dissonance-staging is CREATE_FAILED: settle it first ('mirror-infra status "
        "--env staging --local')"
    )
    assert _stack(local_aws)["StackStatus"] == "CREATE_FAILED"
    unchanged(local_aws, made)


def test_region_less_names_are_listed_as_left_only_when_no_stack_holds_them(
    cli, local_aws, adopting
):
    """A role or dashboard under the environment's name without the region (as before SPEC §2
    put the region in account-wide names) is the old environment's: listed as left in place.
    One that a stack manages (DescribeStackResources by PhysicalResourceId names it) is that
    stack's business: not listed."""
    local_aws.client("iam").create_role(
        RoleName="mirror-dissonance-staging-app", AssumeRolePolicyDocument=json.dumps({})
    )
    dashboard = {
        "Type": "AWS::CloudWatch::Dashboard",
        "Properties": {
            "DashboardName": "mirror-dissonance-staging",
            "DashboardBody": json.dumps({"widgets": []}),
        },
    }
    cfn = local_aws.client("cloudformation")
    cfn.create_stack(StackName="someone-elses", TemplateBody=template({"Board": dashboard}))
    assert cli("bootstrap").code == 0
    surveyed = cli("adopt", "--out", "survey.json")
    assert "role mirror-dissonance-staging-app: left in place" in surveyed.out, surveyed.out
    assert "the stacks make mirror-dissonance-staging-app-us-east-1" in surveyed.out
    assert "dashboard mirror-dissonance-staging" not in surveyed.out


def test_the_library_refuses_a_stuck_stack_too(cli, local_aws, adopting):
    """adopt() itself refuses a root stack it can neither go on from nor start over on, whoever
    calls it (the CLI refuses earlier, before a survey is saved), and starts nothing."""
    import pytest

    from mirror_infra.adopt.run import adopt
    from mirror_infra.adopt.survey import Survey
    from mirror_infra.deploy.context import Deployment
    from mirror_infra.deploy.flow import Hooks
    from mirror_infra.errors import DeployError

    cfn = local_aws.client("cloudformation")
    local_aws.settings(fail_create=["Second"])
    cfn.create_stack(
        StackName=STAGING.root_stack, TemplateBody=two_alarms(10, 10), DisableRollback=True
    )
    local_aws.settings(fail_create=[])
    before = cfn.describe_stack_events(StackName=STAGING.root_stack)["StackEvents"]
    dep = Deployment.open("staging", None, local=True, profile=None)
    with pytest.raises(DeployError, match="is CREATE_FAILED: settle it first"):
        adopt(dep, Survey([]), Hooks())
    assert cfn.describe_stack_events(StackName=STAGING.root_stack)["StackEvents"] == before


def test_an_existing_resource_is_not_imported_into_a_deployed_environment(cli, local_aws, adopting):
    """An environment this tool deployed, and then params naming an existing bucket: importing
    it would take a change set on the Storage nested stack, which no AWS page documents.
    adopt refuses and changes nothing."""
    assert cli("bootstrap").code == 0
    params = adopting.read_text()
    adopting.write_text(params.replace(f"baselines_bucket: {TF_BUCKET}\n", ""))
    assert cli("apply", "--yes").code == 0
    local_aws.client("s3").create_bucket(Bucket=TF_BUCKET)
    adopting.write_text(params)
    cfn = local_aws.client("cloudformation")
    before = cfn.describe_stack_events(StackName=STAGING.root_stack)["StackEvents"]
    line = _refused(cli)
    assert "already holds the environment" in line, line
    assert "Storage.BaselinesBucket" in line
    assert cfn.describe_stack_events(StackName=STAGING.root_stack)["StackEvents"] == before
    stacks = {s["StackName"] for s in cfn.describe_stacks()["Stacks"]}
    assert not [s for s in stacks if s.endswith("-adopted")]
