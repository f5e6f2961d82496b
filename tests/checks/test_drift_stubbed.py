"""`drift` against AWS-shaped responses for what the local AWS cannot produce: a FAILED
detection, one that never finishes, resources drift detection does not support, throttling."""

from __future__ import annotations

import json
import time

import pytest

from mirror_infra.checks import drift
from mirror_infra.cli import main
from tests.checks.stubbed import (
    KEY_ARN,
    NESTED_ID,
    ROOT,
    ROOT_ID,
    FakeClock,
    resource_drift,
    stub_detect,
    stub_drifts,
    stub_nonce,
    stub_status,
    stub_tree,
    stubbed_environment,
    throttling,
)

# the parent's view of a nested stack: never checked by the parent, it has its own detection
NESTED_NOT_CHECKED = resource_drift(
    ROOT_ID, "Dynamodb", "AWS::CloudFormation::Stack", "NOT_CHECKED"
)


@pytest.fixture
def stubs(project, monkeypatch):
    """The CLI's `drift` on a stubbed environment, one detection at a time (the Stubber answers
    in order), on a fake clock."""
    stubs = stubbed_environment()
    clock = FakeClock()
    monkeypatch.setattr("mirror_infra.commands.drift.environment", lambda args, **_: stubs.env)
    monkeypatch.setattr(drift, "WORKERS", 1)
    monkeypatch.setattr(drift, "Clock", lambda: clock)
    stubs.clock = clock
    yield stubs
    stubs.done()


def start(stubs) -> None:
    """The stack tree is listed, then a detection starts on each stack."""
    stub_tree(stubs)
    stub_detect(stubs, ROOT_ID)
    stub_detect(stubs, NESTED_ID)


def run(capsys, *args):
    code = main(["drift", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_in_sync_exits_0_and_checks_every_stack(stubs, capsys):
    start(stubs)
    stub_status(stubs, ROOT_ID, "DETECTION_COMPLETE", "IN_SYNC", drifted=0)
    stub_status(stubs, NESTED_ID, "DETECTION_COMPLETE", "IN_SYNC", drifted=0)
    stub_drifts(stubs, ROOT_ID, [NESTED_NOT_CHECKED])
    stub_drifts(stubs, NESTED_ID, [])
    stub_nonce(stubs)

    code, out, err = run(capsys, "--json")

    assert code == 0, err
    report = json.loads(out)
    assert [(s["stack"], s["detection"]) for s in report["stacks"]] == [
        (ROOT, "DETECTION_COMPLETE"),
        ("Dynamodb", "DETECTION_COMPLETE"),
    ]
    assert report["differences"] == [] and report["errors"] == []
    assert report["stacks"][0]["not_checked"] == []  # the nested stack is not "unchecked"


def test_modified_and_deleted_resources_exit_2_with_property_expected_actual(stubs, capsys):
    start(stubs)
    stub_status(stubs, ROOT_ID, "DETECTION_COMPLETE", "IN_SYNC", drifted=0)
    stub_status(stubs, NESTED_ID, "DETECTION_COMPLETE", "DRIFTED", drifted=2)
    stub_drifts(stubs, ROOT_ID, [])
    pitr = (
        "/PointInTimeRecoverySpecification/PointInTimeRecoveryEnabled",
        "true",
        "false",
        "NOT_EQUAL",
    )
    stub_drifts(
        stubs,
        NESTED_ID,
        [
            resource_drift(NESTED_ID, "FpEventsTable", "AWS::DynamoDB::Table", "MODIFIED", [pitr]),
            resource_drift(NESTED_ID, "ConsentTable", "AWS::DynamoDB::Table", "DELETED"),
        ],
        pages=2,
    )
    stub_nonce(stubs)

    code, out, _ = run(capsys)

    assert code == 2
    lines = [" ".join(line.split()) for line in out.splitlines()]
    assert any(
        "Dynamodb │ FpEventsTable │ AWS::DynamoDB::Table │ MODIFIED │ "
        "/PointInTimeRecoverySpecification/PointInTimeRecoveryEnabled │ true │ false" in line
        for line in lines
    ), out
    assert any("Dynamodb │ ConsentTable" in line and "│ exists │ deleted" in line for line in lines)
    assert "2 resource(s) drifted" in out


def test_failed_detection_exits_1_with_the_reason_and_shows_partial_results(stubs, capsys):
    start(stubs)
    reason = json.dumps(
        {
            "Summary": "Failed to detect drift on resources [FpEventsTable]",
            "Failures": [{"Resource": "FpEventsTable", "FailureReason": "Rate exceeded"}],
        }
    )
    stub_status(stubs, ROOT_ID, "DETECTION_COMPLETE", "IN_SYNC", drifted=0)
    stub_status(stubs, NESTED_ID, "DETECTION_FAILED", reason=reason)
    stub_drifts(stubs, ROOT_ID, [])
    ttl = ("/TimeToLiveSpecification/Enabled", "true", "false", "NOT_EQUAL")
    stub_drifts(
        stubs,
        NESTED_ID,
        [resource_drift(NESTED_ID, "ConsentTable", "AWS::DynamoDB::Table", "MODIFIED", [ttl])],
    )
    stub_nonce(stubs)

    code, out, err = run(capsys, "--json")

    assert code == 1  # an incomplete answer is an error, even with drift found
    assert (
        "error: Dynamodb: DETECTION_FAILED (Failed to detect drift on resources "
        "[FpEventsTable] (FpEventsTable: Rate exceeded))" in err
    )
    report = json.loads(out)
    assert [(d["resource"], d["property"]) for d in report["differences"]] == [
        ("ConsentTable", "/TimeToLiveSpecification/Enabled")
    ]


def test_detection_that_never_finishes_times_out_without_real_waiting(stubs, capsys):
    # a round every 10 fake seconds: at 0, 10 and 20 s; the next round would pass 25 s
    start(stubs)
    stub_status(stubs, ROOT_ID, "DETECTION_COMPLETE", "IN_SYNC", drifted=0)
    for _ in range(3):
        stub_status(stubs, NESTED_ID, "DETECTION_IN_PROGRESS")
    stub_drifts(stubs, ROOT_ID, [])
    stub_nonce(stubs)

    started = time.monotonic()
    code, _, err = run(capsys, "--timeout", "25")

    assert code == 1
    assert "error: Dynamodb: TIMED_OUT (still in progress after the 25s timeout)" in err
    assert stubs.clock.sleeps == [10.0, 10.0]
    assert time.monotonic() - started < 5


def test_unsupported_resources_are_listed_as_not_checked_not_as_drift(stubs, capsys):
    start(stubs)
    stub_status(stubs, ROOT_ID, "DETECTION_COMPLETE", "IN_SYNC", drifted=0)
    stub_status(stubs, NESTED_ID, "DETECTION_COMPLETE", "IN_SYNC", drifted=0)
    stub_drifts(stubs, ROOT_ID, [NESTED_NOT_CHECKED])
    stub_drifts(
        stubs,
        NESTED_ID,
        [resource_drift(NESTED_ID, "OpsAlertsTopicPolicy", "AWS::SNS::TopicPolicy", "NOT_CHECKED")],
    )
    stub_nonce(stubs)

    code, out, _ = run(capsys)

    assert code == 0
    assert "0 resource(s) drifted; 1 resource(s) not checked" in out
    assert "OpsAlertsTopicPolicy" in out


def test_unknown_and_unsupported_resources_are_never_reported_in_sync(stubs, capsys):
    """AWS returns UNKNOWN (with DriftStatusReason) and UNSUPPORTED for resources it could not
    check (API_StackResourceDrift.html): listed, and UNKNOWN makes the run an error."""
    start(stubs)
    stub_status(stubs, ROOT_ID, "DETECTION_COMPLETE", "IN_SYNC", drifted=0)
    stub_status(stubs, NESTED_ID, "DETECTION_COMPLETE", "IN_SYNC", drifted=0)
    stub_drifts(stubs, ROOT_ID, [NESTED_NOT_CHECKED])
    stub_drifts(
        stubs,
        NESTED_ID,
        [
            resource_drift(
                NESTED_ID,
                "FpEventsTable",
                "AWS::DynamoDB::Table",
                "UNKNOWN",
                reason="Internal failure while checking the resource",
            ),
            resource_drift(
                NESTED_ID, "OpsAlertsTopicPolicy", "AWS::SNS::TopicPolicy", "UNSUPPORTED"
            ),
        ],
    )
    stub_nonce(stubs)

    code, out, err = run(capsys)

    assert code == 1
    assert (
        "error: Dynamodb: FpEventsTable: Internal failure while checking the resource (drift "
        "UNKNOWN: not checked, so not known to be in sync)" in err
    )
    assert "OpsAlertsTopicPolicy" in out  # UNSUPPORTED: listed as not checked


def test_throttling_is_waited_out_within_the_deadline(stubs, capsys):
    cfn = stubs["cloudformation"]
    # the Stubber answers in order: the first DetectStackDrift (root) is throttled, then retried
    stub_tree(stubs)
    throttling(cfn, "detect_stack_drift")
    stub_detect(stubs, ROOT_ID)
    stub_detect(stubs, NESTED_ID)
    throttling(cfn, "describe_stack_drift_detection_status")  # root: asked again next round
    stub_status(stubs, NESTED_ID, "DETECTION_COMPLETE", "IN_SYNC", drifted=0)
    stub_status(stubs, ROOT_ID, "DETECTION_COMPLETE", "IN_SYNC", drifted=0)
    throttling(cfn, "describe_stack_resource_drifts")
    stub_drifts(stubs, ROOT_ID, [])
    stub_drifts(stubs, NESTED_ID, [])
    stub_nonce(stubs)

    code, _, err = run(capsys)

    assert code == 0, err
    assert len(stubs.clock.sleeps) == 3  # one wait per throttle, no error


def test_throttled_until_the_deadline_is_a_timeout(stubs, capsys):
    cfn = stubs["cloudformation"]
    stub_tree(stubs)
    for _ in range(3):  # at 0, 10 and 20 s; waiting again would pass 25 s
        throttling(cfn, "detect_stack_drift")
    stub_detect(stubs, NESTED_ID)
    stub_status(stubs, NESTED_ID, "DETECTION_COMPLETE", "IN_SYNC", drifted=0)
    stub_drifts(stubs, NESTED_ID, [])
    stub_nonce(stubs)

    code, _, err = run(capsys, "--timeout", "25")

    assert code == 1
    assert f"error: {ROOT}: TIMED_OUT (throttled by AWS until the 25s timeout)" in err


@pytest.mark.parametrize(
    ("type_", "key", "prop", "expected"),
    [
        ("String", KEY_ARN, "Type", "SecureString"),
        ("SecureString", "alias/aws/ssm", "KeyId", "alias/mirror-dissonance-staging"),
    ],
    ids=["plain-string", "aws-managed-key"],
)
def test_nonce_changed_out_of_band_is_drift(stubs, capsys, type_, key, prop, expected):
    start(stubs)
    stub_status(stubs, ROOT_ID, "DETECTION_COMPLETE", "IN_SYNC", drifted=0)
    stub_status(stubs, NESTED_ID, "DETECTION_COMPLETE", "IN_SYNC", drifted=0)
    stub_drifts(stubs, ROOT_ID, [])
    stub_drifts(stubs, NESTED_ID, [])
    stub_nonce(stubs, type_, key)
    if prop == "KeyId":  # the key named by AWS's own alias is not the environment's
        other = "arn:aws:kms:us-east-1:123456789012:key/0000aaaa-12ab-34cd-56ef-1234567890ab"
        kms = stubs["kms"]
        kms.add_response(
            "describe_key",
            {"KeyMetadata": {"KeyId": other.rsplit("/", 1)[1], "Arn": other}},
            {"KeyId": key},
        )
        kms.add_response(
            "list_aliases",
            {"Aliases": [{"AliasName": "alias/mirror-dissonance-staging", "TargetKeyId": "x"}]},
            {"KeyId": KEY_ARN},
        )

    code, out, _ = run(capsys, "--json")

    assert code == 2
    [difference] = json.loads(out)["differences"]
    assert difference["stack"] == "(out of band)"
    assert difference["resource"] == "/guardian/staging/redaction_nonce_v1"
    assert (difference["property"], difference["expected"]) == (prop, expected)
    assert difference["actual"] == (type_ if prop == "Type" else key)
