"""verify, smoke and drift against the environment the real CLI deployed on the local AWS."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.expected import ExpectedNames

NAMES = ExpectedNames("staging")
NONCE = NAMES.nonce_parameter(1)
ALARM = NAMES.alarm("fp-events-read-throttle")
# what put_metric_alarm takes back from describe_alarms
_ALARM_FIELDS = (
    "AlarmName",
    "AlarmDescription",
    "ActionsEnabled",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "Dimensions",
    "Period",
    "EvaluationPeriods",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
)


def bucket(d) -> str:
    return NAMES.baselines_bucket("123456789012", "us-east-1")


def set_pitr(d, enabled: bool) -> None:
    d.client("dynamodb").update_continuous_backups(
        TableName=NAMES.fp_events_table,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": enabled},
    )


def set_threshold(d, threshold: float) -> None:
    cw = d.client("cloudwatch")
    [alarm] = cw.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"]
    cw.put_metric_alarm(
        **{**{k: alarm[k] for k in _ALARM_FIELDS if k in alarm}, "Threshold": threshold}
    )


def set_versioning(d, status: str) -> None:
    d.client("s3").put_bucket_versioning(
        Bucket=bucket(d), VersioningConfiguration={"Status": status}
    )


def delete_nonce(d) -> None:
    d.client("ssm").delete_parameter(Name=NONCE)


def recreate_nonce(d) -> None:
    key = d.client("kms").describe_key(KeyId=NAMES.key_alias)["KeyMetadata"]["Arn"]
    d.client("ssm").put_parameter(
        Name=NONCE, Value=secrets.token_hex(32), Type="SecureString", KeyId=key
    )


def open_key_policy(d, opened: bool) -> None:
    kms = d.client("kms")
    key = kms.describe_key(KeyId=NAMES.key_alias)["KeyMetadata"]["KeyId"]
    policy = json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])
    anyone = {
        "Sid": "Anyone",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "kms:Decrypt",
        "Resource": "*",
    }
    statements = [s for s in policy["Statement"] if s.get("Sid") != "Anyone"]
    policy["Statement"] = statements + ([anyone] if opened else [])
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(policy))


def set_retention(d, days: int) -> None:
    d.client("logs").put_retention_policy(logGroupName=NAMES.log_group, retentionInDays=days)


def set_log_key(d, encrypted: bool) -> None:
    logs = d.client("logs")
    if encrypted:
        key = d.client("kms").describe_key(KeyId=NAMES.key_alias)["KeyMetadata"]["Arn"]
        logs.associate_kms_key(logGroupName=NAMES.log_group, kmsKeyId=key)
    else:
        logs.disassociate_kms_key(logGroupName=NAMES.log_group)


@dataclass(frozen=True)
class Change:
    """An out-of-band change, how to undo it, and where verify and drift must show it."""

    id: str
    make: Callable
    undo: Callable
    row: str
    stack: str
    resource: str
    property: str  # a part of the reported property path


CHANGES = [
    Change(
        "pitr-off",
        lambda d: set_pitr(d, False),
        lambda d: set_pitr(d, True),
        "table fp-events",
        "Dynamodb",
        "FpEventsTable",
        "PointInTimeRecoveryEnabled",
    ),
    Change(
        "alarm-threshold",
        lambda d: set_threshold(d, 50),
        lambda d: set_threshold(d, 10),
        "alarm fp-events-read-throttle",
        "Monitoring",
        "FpEventsReadThrottleAlarm",
        "Threshold",
    ),
    Change(
        "versioning-suspended",
        lambda d: set_versioning(d, "Suspended"),
        lambda d: set_versioning(d, "Enabled"),
        "baselines bucket",
        "Storage",
        "BaselinesBucket",
        "VersioningConfiguration",
    ),
    Change(
        "key-policy-opened",
        lambda d: open_key_policy(d, True),
        lambda d: open_key_policy(d, False),
        "KMS key",
        "Kms",
        "Key",
        "KeyPolicy",
    ),
    Change(
        "log-retention-changed",
        lambda d: set_retention(d, 7),
        lambda d: set_retention(d, 30),  # params/staging.yaml's log_retention_days
        "log group",
        "Monitoring",
        "AppLogGroup",
        "RetentionInDays",
    ),
    Change(
        "log-group-key-removed",
        lambda d: set_log_key(d, False),
        lambda d: set_log_key(d, True),
        "log group",
        "Monitoring",
        "AppLogGroup",
        "KmsKeyId",
    ),
    Change(
        "nonce-deleted",
        delete_nonce,
        recreate_nonce,
        "SSM nonce",
        "(out of band)",
        NONCE,
        "(resource)",
    ),
]


def assert_only(d, change: Change) -> None:
    """verify fails on exactly the change's row; drift reports exactly that resource."""
    verify = d.run("verify", "--json")
    assert verify.code == 1
    failing = {c["name"]: c for c in verify.json["checks"] if not c["ok"]}
    assert set(failing) == {change.row}, failing
    assert f"error: 1 of {len(verify.json['checks'])} failed: {change.row}" in verify.err
    assert failing[change.row]["problems"], "a failing row says what is wrong"

    drift = d.run("drift", "--json")
    assert drift.code == 2, drift.err
    report = drift.json
    assert report["errors"] == []
    assert {(x["stack"], x["resource"]) for x in report["differences"]} == {
        (change.stack, change.resource)
    }, report["differences"]
    assert any(change.property in x["property"] for x in report["differences"])


def test_after_apply_every_verify_row_passes(green):
    result = green.run("verify")
    assert result.code == 0, result.out
    assert "FAIL" not in result.out
    assert (
        "dashboard: https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1"
        "#dashboards:name=mirror-dissonance-staging" in result.out
    )
    rows = green.run("verify", "--json").json["checks"]
    assert {r["name"] for r in rows} >= {
        "table fp-events",
        "table consent",
        "table block-counter",
        "KMS key",
        "SSM nonce",
        "alarm fp-events-read-throttle",
        "alarm fp-events-write-throttle",
        "alarm ssm-parameter-failures",
        "alarm circuit-breaker-triggered",
        "log group",
        "SNS topic",
        "SNS subscriptions",
        "dashboard",
        "baselines bucket",
        "application role",
        "protection",
    }
    evidence = {r["name"]: r["evidence"] for r in rows}
    assert "PITR ENABLED, SSE KMS alias/mirror-dissonance-staging" in evidence["table fp-events"]
    assert "TTL expiresAt ENABLED, GSI FindingIndex ACTIVE" in evidence["table fp-events"]
    assert "TTL - DISABLED" in evidence["table consent"]
    assert "TTL ttl ENABLED" in evidence["table block-counter"]
    assert evidence["log group"] == (
        "/mirror-dissonance/staging/app, retention 30 days, "
        "encrypted alias/mirror-dissonance-staging"
    )
    # nobody can click the link the local AWS would send: pending, shown, and not a failure
    assert "email ops-alerts@example.com PendingConfirmation" in evidence["SNS subscriptions"]
    assert "WARN" in result.out


def test_after_apply_every_stack_is_in_sync(green):
    result = green.run("drift", "--json")
    assert result.code == 0, result.err
    report = result.json
    # the root first, then its nested stacks in the order ListStackResources gives (undocumented)
    stacks = [s["stack"] for s in report["stacks"]]
    assert stacks[0] == "mirror-dissonance-staging"
    assert sorted(stacks[1:]) == ["Dynamodb", "Iam", "Kms", "Monitoring", "Storage"]
    assert all(s["detection"] == "DETECTION_COMPLETE" for s in report["stacks"])
    assert report["differences"] == []


@pytest.mark.parametrize("change", CHANGES, ids=[c.id for c in CHANGES])
def test_out_of_band_change_fails_its_row_and_is_drift(green, change):
    change.make(green)
    try:
        assert_only(green, change)
    finally:
        change.undo(green)


def test_nothing_secret_is_printed(green):
    value = green.client("ssm").get_parameter(Name=NONCE, WithDecryption=True)["Parameter"]["Value"]
    for command in ("verify", "smoke", "drift"):
        for extra in ((), ("--json",)):
            yes = ("--yes",) if command == "smoke" else ()
            result = green.run(command, *yes, *extra)
            assert value not in result.out + result.err, command


# --- smoke ---------------------------------------------------------------------------------


def test_smoke_asks_before_emailing_a_real_person(green):
    # staging here subscribes an alert email: without --yes (and no terminal) nothing is written
    result = green.run("smoke")
    assert result.code == 1
    assert result.err.strip().splitlines()[-1] == (
        "error: smoke not run on staging; pass --yes to run it without asking"
    )
    assert leftovers(green) == {}


def leftovers(d) -> dict[str, int]:
    """Items in the three tables and object versions/delete markers in the baselines bucket."""
    ddb = d.client("dynamodb")
    found = {table: ddb.scan(TableName=table)["Count"] for table in NAMES.tables}
    versions = d.client("s3").list_object_versions(Bucket=bucket(d))
    found["objects"] = len(versions.get("Versions", [])) + len(versions.get("DeleteMarkers", []))
    return {k: v for k, v in found.items() if v}


def test_smoke_passes_and_leaves_nothing_behind(green):
    result = green.run("smoke", "--yes", "--json")
    assert result.code == 0, result.out
    names = [c["name"] for c in result.json["checks"]]
    assert names == [
        "fp-events put/get/delete",
        "SNS test notification",
        "fp event via FindingIndex",
        "block counter ADD",
        "consent record",
        "nonce by path",
        "baselines object",
        "cleanup",
    ]
    assert "'[TEST] Staging Alert'" in result.json["checks"][1]["evidence"]
    assert leftovers(green) == {}


def test_smoke_cleans_up_after_a_failed_step(green, monkeypatch):
    from mirror_infra.checks.smoke import Smoke, StepFailed

    counter = Smoke.block_counter

    def fails_after_writing(self):
        counter(self)
        raise StepFailed("injected failure")

    monkeypatch.setattr(Smoke, "block_counter", fails_after_writing)
    result = green.run("smoke", "--yes", "--json")

    assert result.code == 1
    failing = [c["name"] for c in result.json["checks"] if not c["ok"]]
    assert failing == ["block counter ADD"]
    assert leftovers(green) == {}


def test_smoke_cleans_up_when_interrupted(green, monkeypatch):
    from mirror_infra.checks.smoke import Smoke

    def interrupted(self):
        raise KeyboardInterrupt

    # the object is the last write; the interruption comes after everything else was written
    original = Smoke.baseline_object

    def write_then_interrupt(self):
        original(self)
        interrupted(self)

    monkeypatch.setattr(Smoke, "baseline_object", write_then_interrupt)
    result = green.run("smoke", "--yes")

    assert result.code == 130
    assert leftovers(green) == {}
