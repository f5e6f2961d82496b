"""Issue 26, finding 3: a resource deleted out of band is never "No changes" for `plan
--revert-drift`. A drift-aware change set's row says `ResourceDriftStatus: DELETED` ("The
resource was deleted outside CloudFormation", API_ResourceChange) and its execution
re-creates it (AWS What's New, November 2025: "recreate resources deleted outside of IaC")."""

from __future__ import annotations

from tests.adopt.terraformed import STAGING

ALARM = STAGING.alarm("fp-events-read-throttle")


def _alarms(local_aws) -> set[str]:
    found = local_aws.client("cloudwatch").describe_alarms()["MetricAlarms"]
    return {a["AlarmName"] for a in found}


def test_an_alarm_deleted_out_of_band_is_put_back_by_revert_drift(cli, local_aws, project):
    assert cli("bootstrap").code == 0
    assert cli("apply", "--yes").code == 0
    local_aws.client("cloudwatch").delete_alarms(AlarmNames=[ALARM])
    drifted = cli("drift")
    assert drifted.code == 2
    assert "DELETED" in drifted.out, drifted.out
    assert "plan --revert-drift" in drifted.err
    saved = project / "revert.json"
    planned = cli("plan", "--revert-drift", "--out", str(saved))
    assert planned.code == 2, planned.text  # never "No changes" (exit 0)
    assert "No changes" not in planned.text
    row = next(line for line in planned.out.splitlines() if "FpEventsReadThrottleAlarm" in line)
    assert "re-created (deleted out of band)" in row, planned.out
    # the step no AWS page documents is named when it runs
    assert "no AWS page documents" in planned.text, planned.text
    applied = cli("apply", "--plan", str(saved))
    assert applied.code == 0, applied.text
    assert ALARM in _alarms(local_aws)
    assert cli("drift").code == 0
    assert cli("plan", "--revert-drift").code == 0  # nothing left to put back


def test_a_table_deleted_out_of_band_is_re_created_only_when_named(cli, local_aws, project):
    """Re-creating a table makes a new, empty one (its data went with the deletion): the plan
    says so and the revert runs only when the table is named."""
    assert cli("bootstrap").code == 0
    assert cli("apply", "--yes").code == 0
    ddb = local_aws.client("dynamodb")
    ddb.delete_table(TableName=STAGING.consent_table)
    refused = cli("plan", "--revert-drift")
    assert refused.code == 1, refused.text
    assert "--allow-data-loss ConsentTable" in refused.err
    saved = project / "revert.json"
    planned = cli(
        "plan", "--revert-drift", "--allow-data-loss", "ConsentTable", "--out", str(saved)
    )
    assert planned.code == 2, planned.text
    assert cli("apply", "--plan", str(saved)).code == 0
    assert ddb.describe_table(TableName=STAGING.consent_table)["Table"]["TableStatus"] == "ACTIVE"
