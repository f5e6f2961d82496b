# ruff: noqa: E501 - the case table reads best one case a line
"""In-place changes that lose data are refused unless named, like replacements (SPEC §3): cut
retention, PITR or deletion protection off, versioning suspended, an expiry shortened, a
DeletionPolicy that no longer keeps the data."""

from __future__ import annotations

import re
import shutil

import pytest

from mirror_infra.deploy.risk import in_place_losses


def _template(kind: str, props: dict, **attributes: str) -> dict:
    return {"Resources": {"R": {"Type": kind, "Properties": props, **attributes}}}


TABLE, BUCKET, LOGS = "AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::Logs::LogGroup"
PITR = "PointInTimeRecoverySpecification"
VERSIONING = "VersioningConfiguration"


def _lifecycle(days: int | None) -> dict:
    rule = {"Id": "Old", "Status": "Enabled"}
    if days is not None:
        rule["NoncurrentVersionExpiration"] = {"NoncurrentDays": days}
    return {"LifecycleConfiguration": {"Rules": [rule]}}


# (what, deployed, new, the reason expected or None when nothing is lost)
CASES = [
    ("retention cut", _template(LOGS, {"RetentionInDays": 365}), _template(LOGS, {"RetentionInDays": 1}), "log retention cut from 365 to 1 days"),
    ("retention longer", _template(LOGS, {"RetentionInDays": 30}), _template(LOGS, {"RetentionInDays": 365}), None),
    ("retention set where it was never", _template(LOGS, {}), _template(LOGS, {"RetentionInDays": 3653}), "log retention cut from never to 3653 days"),
    ("retention removed (never expires)", _template(LOGS, {"RetentionInDays": 30}), _template(LOGS, {}), None),
    ("PITR off", _template(TABLE, {PITR: {"PointInTimeRecoveryEnabled": True}}), _template(TABLE, {PITR: {"PointInTimeRecoveryEnabled": False}}), "point-in-time recovery turned off"),
    ("PITR dropped", _template(TABLE, {PITR: {"PointInTimeRecoveryEnabled": True}}), _template(TABLE, {}), "point-in-time recovery turned off"),
    ("PITR on", _template(TABLE, {}), _template(TABLE, {PITR: {"PointInTimeRecoveryEnabled": True}}), None),
    ("deletion protection off", _template(TABLE, {"DeletionProtectionEnabled": True}), _template(TABLE, {"DeletionProtectionEnabled": False}), "deletion protection turned off"),
    ("versioning suspended", _template(BUCKET, {VERSIONING: {"Status": "Enabled"}}), _template(BUCKET, {VERSIONING: {"Status": "Suspended"}}), "bucket versioning Suspended"),
    ("versioning on", _template(BUCKET, {VERSIONING: {"Status": "Suspended"}}), _template(BUCKET, {VERSIONING: {"Status": "Enabled"}}), None),
    ("expiry shortened", _template(BUCKET, _lifecycle(90)), _template(BUCKET, _lifecycle(7)), "lifecycle rules lose objects: Old noncurrent versions from 90 to 7 days"),
    ("expiry added", _template(BUCKET, _lifecycle(None)), _template(BUCKET, _lifecycle(30)), "lifecycle rules lose objects: Old noncurrent versions from never to 30 days"),
    ("expiry longer", _template(BUCKET, _lifecycle(7)), _template(BUCKET, _lifecycle(90)), None),
    ("Retain to Delete", _template(TABLE, {}, DeletionPolicy="Retain"), _template(TABLE, {}, DeletionPolicy="Delete"), "DeletionPolicy Retain -> Delete: the data would no longer be kept"),
    ("Retain to default", _template(BUCKET, {}, UpdateReplacePolicy="Retain"), _template(BUCKET, {}), "UpdateReplacePolicy Retain -> Delete: the data would no longer be kept"),
    ("Delete to Retain", _template(TABLE, {}, DeletionPolicy="Delete"), _template(TABLE, {}, DeletionPolicy="Retain"), None),
    ("a stateless type", _template("AWS::CloudWatch::Alarm", {}, DeletionPolicy="Retain"), _template("AWS::CloudWatch::Alarm", {}), None),
]  # fmt: skip


@pytest.mark.parametrize(("what", "deployed", "new", "reason"), CASES, ids=[c[0] for c in CASES])
def test_in_place_losses(what, deployed, new, reason):
    found = in_place_losses(deployed, new)
    assert found == ({"R": [reason]} if reason else {})


@pytest.fixture
def staging_with_retention(deployed, project):
    def rebuild(days: int) -> None:
        params = project / "params" / "staging.yaml"
        params.write_text(
            re.sub(r"log_retention_days: \d+", f"log_retention_days: {days}", params.read_text())
        )
        shutil.rmtree(project / "build" / "staging", ignore_errors=True)

    return rebuild


def test_cutting_log_retention_is_refused_unless_named(deployed, staging_with_retention, local_aws):
    staging_with_retention(1)
    plan = deployed("plan")
    assert plan.code == 1
    assert "loses data: log retention cut from 30 to 1 days" in plan.out
    assert plan.err.strip().splitlines()[-1] == (
        "error: refusing to change data: Monitoring.AppLogGroup (loses data); if that is "
        "intended, name each one: --allow-data-loss AppLogGroup"
    )
    assert deployed("apply", "--yes").code == 1
    logs = local_aws.client("logs")
    (group,) = logs.describe_log_groups(logGroupNamePrefix="/mirror-dissonance/staging/app")[
        "logGroups"
    ]
    assert group["retentionInDays"] == 30
    applied = deployed("apply", "--yes", "--allow-data-loss", "AppLogGroup")
    assert applied.code == 0, applied.text
    (group,) = logs.describe_log_groups(logGroupNamePrefix="/mirror-dissonance/staging/app")[
        "logGroups"
    ]
    assert group["retentionInDays"] == 1


def test_longer_retention_is_safe(deployed, staging_with_retention):
    staging_with_retention(90)
    plan = deployed("plan")
    assert plan.code == 2, plan.text
    assert "loses data" not in plan.out


def test_the_old_flag_spelling_still_names_it(deployed, staging_with_retention):
    staging_with_retention(1)
    assert deployed("plan", "--allow-replace", "AppLogGroup").code == 2


def test_a_deletion_policy_that_no_longer_keeps_the_data_is_refused(cli, project):
    assert cli("bootstrap", "--env", "production").code == 0
    assert cli("apply", "--env", "production", "--yes").code == 0
    params = project / "params" / "production.yaml"
    params.write_text(
        params.read_text().replace("deletion_policy: Retain", "deletion_policy: Delete")
    )
    plan = cli("plan", "--env", "production", "--json")
    assert plan.code == 1
    rows = {
        f"{c['stack']}.{c['logical_id']}": c for c in plan.json["changes"] if c["risk"] != "safe"
    }
    for table in ("FpEventsTable", "ConsentTable", "BlockCounterTable"):
        row = rows[f"Dynamodb.{table}"]
        assert row["risk"] == "loses data"
        assert row["reason"] == "DeletionPolicy Retain -> Delete: the data would no longer be kept"
    assert "refusing to change data" in plan.err


def test_a_name_conflict_fails_the_plan_before_anything_runs(
    deployed, local_aws, monkeypatch, project
):
    """Pre-deployment validation (validate-stack-deployments.html): a new resource whose name
    already exists fails the change set in FAIL mode; plan shows which, and why, and runs
    nothing."""
    from mirror_infra import contract

    existing = "mirror-dissonance-staging-extra"
    local_aws.client("cloudwatch").put_metric_alarm(
        AlarmName=existing,
        MetricName="Other",
        Namespace="Other",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    extra = contract.AlarmSpec(
        "ExtraAlarm", "extra", "app", "CircuitBreakerTriggered", 1, "GreaterThanThreshold", "x"
    )
    monkeypatch.setattr("mirror_infra.contract.ALARMS", (*contract.ALARMS, extra))
    shutil.rmtree(project / "build" / "staging", ignore_errors=True)
    plan = deployed("plan")
    assert plan.code == 1, plan.text
    last = plan.err.strip().splitlines()[-1]
    assert "failed pre-deployment validation: ExtraAlarm " in last
    assert "(FAIL)" in last and "already exists outside this stack" in last
    cfn = local_aws.client("cloudformation")
    waiting = cfn.list_change_sets(StackName="mirror-dissonance-staging")["Summaries"]
    assert [c for c in waiting if c["ExecutionStatus"] != "EXECUTE_COMPLETE"] == []
