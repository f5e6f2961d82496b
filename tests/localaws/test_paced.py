"""The AWS-paced mode and the fault switch of the local AWS (localaws/pacing.py).

Small stacks at small pace factors: every test here takes about a second."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from tests.localaws.stacks import alarm, table, template, two_alarms

PACE = 0.05  # 5 % of AWS's typical times: a table update takes 1 s, an alarm 0.15 s


def _wait(cfn, name: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while True:
        status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        if not status.endswith("_IN_PROGRESS") or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


def _statuses(cfn, name: str) -> list[str]:
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    return [e["ResourceStatus"] for e in reversed(events) if e["LogicalResourceId"] == name]


def test_a_paced_create_is_in_progress_when_the_call_returns(local_aws):
    """API_CreateStack: "Creates a stack as specified in the template. After the call completes
    successfully, the stack creation starts." — it does not end within the call."""
    cfn = local_aws.client("cloudformation")
    local_aws.settings(pace=PACE)
    cfn.create_stack(StackName="paced", TemplateBody=template({"Alarm": alarm()}))
    assert cfn.describe_stacks(StackName="paced")["Stacks"][0]["StackStatus"] == (
        "CREATE_IN_PROGRESS"
    )
    cfn.get_waiter("stack_create_complete").wait(
        StackName="paced", WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    assert _statuses(cfn, "paced") == ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"]


def test_only_an_operation_that_ended_inside_its_call_says_so(local_aws):
    """Instant mode ends a stack operation inside the call that starts it, and its answer says
    so (server.ENDED_IN_CALL), the one thing that lets a client look at once. A paced one is
    in progress when its call returns, as on AWS, whose answers to CreateStack, UpdateStack,
    DeleteStack and ExecuteChangeSet carry no such header (nor anything of the progress)."""
    from localaws.server import ENDED_IN_CALL

    cfn = local_aws.client("cloudformation")

    def said(answer: dict) -> bool:
        return answer["ResponseMetadata"]["HTTPHeaders"].get(ENDED_IN_CALL) == "true"

    assert said(cfn.create_stack(StackName="instant", TemplateBody=template({"A": alarm()})))
    assert not said(cfn.describe_stacks(StackName="instant"))  # only on what started one ...
    assert not said(cfn.detect_stack_drift(StackName="instant"))  # ... a stack operation
    local_aws.settings(pace=PACE)
    assert not said(cfn.create_stack(StackName="paced", TemplateBody=template({"A": alarm()})))
    assert _wait(cfn, "paced") == "CREATE_COMPLETE"
    assert not said(cfn.delete_stack(StackName="paced"))
    local_aws.settings(pace=0)
    assert said(cfn.delete_stack(StackName="instant"))


def test_the_tool_reads_the_header_the_local_aws_sends(local_aws):
    """The header's name is written on both sides of the boundary (neither package imports
    the other, SPEC §1), so they are compared here: were they to differ, apply would wait a
    second before its first look at every instant operation, and nothing else would fail."""
    from localaws.server import ENDED_IN_CALL as SENT
    from mirror_infra.aws.cloudformation import ENDED_IN_CALL as READ
    from mirror_infra.aws.cloudformation import _ended_in_call

    assert READ == SENT
    cfn = local_aws.client("cloudformation")
    assert _ended_in_call(cfn.create_stack(StackName="said", TemplateBody=template({"A": alarm()})))


def test_cancel_update_rolls_the_update_back(local_aws):
    """API_CancelUpdateStack: "If the call completes successfully, the stack rolls back the
    update and reverts to the previous stack configuration." """
    cfn = local_aws.client("cloudformation")
    cfn.create_stack(StackName="cancel", TemplateBody=template({"Table": table("cancel-t")}))
    local_aws.settings(pace=PACE)
    changed = table("cancel-t", Tags=[{"Key": "k", "Value": "v"}])
    cfn.update_stack(StackName="cancel", TemplateBody=template({"Table": changed}))
    cfn.cancel_update_stack(StackName="cancel")
    assert _wait(cfn, "cancel") == "UPDATE_ROLLBACK_COMPLETE"
    statuses = _statuses(cfn, "cancel")
    assert statuses.index("UPDATE_IN_PROGRESS") < statuses.index("UPDATE_ROLLBACK_IN_PROGRESS")
    arn = local_aws.client("dynamodb").describe_table(TableName="cancel-t")["Table"]["TableArn"]
    tags = local_aws.client("dynamodb").list_tags_of_resource(ResourceArn=arn)["Tags"]
    assert {"Key": "k", "Value": "v"} not in tags


def test_cancel_is_refused_outside_an_update_in_progress(local_aws):
    """API_CancelUpdateStack: "You can cancel only stacks that are in the UPDATE_IN_PROGRESS
    state." """
    cfn = local_aws.client("cloudformation")
    cfn.create_stack(StackName="settled", TemplateBody=template({"Alarm": alarm()}))
    with pytest.raises(ClientError) as raised:
        cfn.cancel_update_stack(StackName="settled")
    assert raised.value.response["Error"]["Code"] == "ValidationError"


def test_drift_detection_is_in_progress_then_complete(local_aws):
    """API_DescribeStackDriftDetectionStatus: DetectionStatus DETECTION_IN_PROGRESS, then
    DETECTION_COMPLETE with the stack's drift status."""
    cfn = local_aws.client("cloudformation")
    cfn.create_stack(StackName="drift", TemplateBody=template({"Alarm": alarm()}))
    local_aws.settings(pace=PACE)
    detection = cfn.detect_stack_drift(StackName="drift")["StackDriftDetectionId"]
    first = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection)
    assert first["DetectionStatus"] == "DETECTION_IN_PROGRESS"
    deadline = time.monotonic() + 10
    while first["DetectionStatus"] == "DETECTION_IN_PROGRESS" and time.monotonic() < deadline:
        time.sleep(0.05)
        first = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection)
    assert (first["DetectionStatus"], first["StackDriftStatus"]) == (
        "DETECTION_COMPLETE",
        "IN_SYNC",
    )


def _throttled_calls(aws, calls: int) -> list[int]:
    import boto3
    from botocore.config import Config

    cfn = boto3.session.Session().client(
        "cloudformation",
        region_name=aws.region,
        endpoint_url=aws.url,
        config=Config(retries={"total_max_attempts": 1}),  # no retry: every answer counts
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    hits = []
    for i in range(calls):
        try:
            cfn.list_stacks()
        except ClientError as exc:
            error = exc.response["Error"]
            # botocore raises "An error occurred (Throttling) ...: Rate exceeded" on
            # CloudFormation; CommonErrors: throttling is HTTP 400
            assert (error["Code"], error["Message"]) == ("Throttling", "Rate exceeded")
            assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 400
            hits.append(i)
    return hits


def test_throttling_hits_a_share_of_calls_the_same_ones_every_run(local_aws):
    local_aws.settings(throttle_share=0.3, throttle_seed=7)
    first = _throttled_calls(local_aws, 40)
    local_aws.settings(throttle_share=0.3, throttle_seed=7)
    assert _throttled_calls(local_aws, 40) == first
    assert 4 <= len(first) <= 20
    local_aws.settings(throttle_share=0.0)
    assert _throttled_calls(local_aws, 5) == []


def test_throttling_spares_other_services_and_the_local_aws_itself(local_aws):
    """The stacks still deploy while every CloudFormation call of the caller's is throttled
    once in a while: the providers' own calls are never throttled."""
    local_aws.settings(throttle_share=1.0, throttle_services=["cloudformation"])
    local_aws.client("sns").list_topics()
    assert _throttled_calls(local_aws, 3) == [0, 1, 2]


def test_a_named_resource_fails_to_create_after_validation_and_rolls_back(local_aws):
    cfn = local_aws.client("cloudformation")
    local_aws.settings(fail_create=["Late"])
    resources = {"Table": table("fault-t"), "Late": alarm()}
    cfn.create_stack(StackName="fault", TemplateBody=template(resources))
    assert _wait(cfn, "fault") == "ROLLBACK_COMPLETE"
    events = cfn.describe_stack_events(StackName="fault")["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert [e["LogicalResourceId"] for e in failed] == ["Late"]
    assert "fault injected by the local AWS" in failed[0]["ResourceStatusReason"]
    tables = local_aws.client("dynamodb").list_tables()["TableNames"]
    assert "fault-t" not in tables  # created before the failure, deleted by the rollback


def test_a_named_resource_fails_to_update_and_the_update_rolls_back(local_aws):
    cfn = local_aws.client("cloudformation")
    cfn.create_stack(StackName="ufault", TemplateBody=template({"Alarm": alarm(10)}))
    local_aws.settings(fail_update=["Alarm"], pace=PACE)
    cfn.update_stack(StackName="ufault", TemplateBody=template({"Alarm": alarm(20)}))
    assert _wait(cfn, "ufault") == "UPDATE_ROLLBACK_COMPLETE"
    alarms = local_aws.client("cloudwatch").describe_alarms(AlarmNames=["gap-alarm"])
    assert alarms["MetricAlarms"][0]["Threshold"] == 10


def test_a_held_update_stays_in_progress_until_released(local_aws):
    """The fault switch's hold_update (the local AWS's own, for tests that must act while an
    update runs): the update outlasts its time until the hold is lifted, then completes."""
    cfn = local_aws.client("cloudformation")
    cfn.create_stack(StackName="held", TemplateBody=template({"Alarm": alarm(10)}))
    local_aws.settings(pace=PACE, hold_update=["Alarm"])
    cfn.update_stack(StackName="held", TemplateBody=template({"Alarm": alarm(20)}))
    time.sleep(20 * 3.0 * PACE)  # twenty times the alarm's update (3 s at AWS's pace)
    assert cfn.describe_stacks(StackName="held")["Stacks"][0]["StackStatus"] == (
        "UPDATE_IN_PROGRESS"
    )
    local_aws.settings(hold_update=[])
    assert _wait(cfn, "held") == "UPDATE_COMPLETE"
    alarms = local_aws.client("cloudwatch").describe_alarms(AlarmNames=["gap-alarm"])
    assert alarms["MetricAlarms"][0]["Threshold"] == 20


def test_settings_reject_unknown_names_and_reset_restores_instant_mode(local_aws):
    with pytest.raises(urllib.error.HTTPError) as raised:
        local_aws.settings(speed=2)
    assert raised.value.code == 400
    assert "speed" in json.loads(raised.value.read())["error"]
    assert local_aws.settings(pace=0.5, fail_create=["X"])["pace"] == 0.5
    from localaws import reset

    reset()
    with urllib.request.urlopen(f"{local_aws.url}/localaws/settings", timeout=5) as answer:
        restored = json.loads(answer.read())
    assert (restored["pace"], restored["fail_create"], restored["throttle_share"]) == (0, [], 0)


def test_the_pace_is_a_constructor_argument_of_the_server(local_aws):
    from localaws import LocalAws, endpoint, reset

    server = LocalAws(port=0, pace=0.25).start()
    try:
        with urllib.request.urlopen(f"{server.url}/localaws/settings", timeout=5) as answer:
            assert json.loads(answer.read())["pace"] == 0.25
    finally:
        server.stop()
        endpoint.set_url(local_aws.url)  # the session's server calls itself again
        reset()


def test_serve_takes_a_pace():
    import subprocess
    import sys

    from tests.localaws_fixtures import free_port, wait_until_answers

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "localaws", "serve", "--port", str(port), "--pace", "0.05"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_answers(url)
        with urllib.request.urlopen(f"{url}/localaws/settings", timeout=5) as answer:
            assert json.loads(answer.read())["pace"] == 0.05
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_reset_stops_a_running_operation_before_it_touches_the_new_state(local_aws):
    """Tests share one server: a paced operation left running by one test must not create
    anything in the next test's empty state."""
    from localaws import reset

    cfn = local_aws.client("cloudformation")
    local_aws.settings(pace=1.0)  # a table takes 30 s
    resources = {"First": alarm(name="first"), "Table": table("late-t")}
    resources["Table"]["DependsOn"] = "First"
    cfn.create_stack(StackName="left-running", TemplateBody=template(resources))
    started = time.monotonic()
    reset()
    assert time.monotonic() - started < 5
    time.sleep(0.2)
    assert local_aws.client("dynamodb").list_tables()["TableNames"] == []
    assert cfn.describe_stacks()["Stacks"] == []


def test_a_failed_rollback_stops_at_update_rollback_failed_until_continued(local_aws):
    """UPDATE_ROLLBACK_FAILED: "Unsuccessful return of one or more stacks to a previous working
    state after a failed stack update." API_ContinueUpdateRollback: ResourcesToSkip are left as
    they are; CloudFormation "sets the status of the specified resources to UPDATE_COMPLETE and
    continues to roll back the stack"."""
    cfn = local_aws.client("cloudformation")
    cfn.create_stack(StackName="stuck", TemplateBody=two_alarms(10, 10))
    local_aws.settings(fail_update=["Second"], fail_rollback=["First"])
    cfn.update_stack(StackName="stuck", TemplateBody=two_alarms(20, 20))
    stack = cfn.describe_stacks(StackName="stuck")["Stacks"][0]
    assert (stack["StackStatus"], stack["StackStatusReason"]) == (
        "UPDATE_ROLLBACK_FAILED",
        "The following resource(s) failed to update: [First]. ",
    )
    with pytest.raises(ClientError) as refused:
        cfn.update_stack(StackName="stuck", TemplateBody=two_alarms(30, 30))
    assert refused.value.response["Error"]["Code"] == "ValidationError"
    assert "UPDATE_ROLLBACK_FAILED state and can not be updated" in str(refused.value)
    cfn.continue_update_rollback(StackName="stuck")  # the fault still holds: stuck again
    assert _wait(cfn, "stuck") == "UPDATE_ROLLBACK_FAILED"
    cfn.continue_update_rollback(StackName="stuck", ResourcesToSkip=["First"])
    assert _wait(cfn, "stuck") == "UPDATE_ROLLBACK_COMPLETE"
    alarms = local_aws.client("cloudwatch").describe_alarms(AlarmNames=["first", "second"])
    thresholds = {a["AlarmName"]: a["Threshold"] for a in alarms["MetricAlarms"]}
    assert thresholds == {"first": 20, "second": 10}  # First skipped: left as it was


def test_continue_update_rollback_needs_update_rollback_failed(local_aws):
    cfn = local_aws.client("cloudformation")
    cfn.create_stack(StackName="fine", TemplateBody=two_alarms(10, 10))
    with pytest.raises(ClientError) as raised:
        cfn.continue_update_rollback(StackName="fine")
    assert raised.value.response["Error"]["Code"] == "ValidationError"


def test_independent_resources_are_provisioned_at_the_same_time(local_aws):
    """AWS creates resources that do not depend on each other in parallel, so a paced create
    takes its critical path: every independent alarm starts before any finishes, and the one
    that depends on them starts after they all have."""
    cfn = local_aws.client("cloudformation")
    local_aws.settings(pace=PACE)
    resources = {f"Alarm{i}": alarm(name=f"parallel-{i}") for i in range(4)}
    resources["Last"] = {**alarm(name="parallel-last"), "DependsOn": sorted(resources)}
    cfn.create_stack(StackName="parallel", TemplateBody=template(resources))
    assert _wait(cfn, "parallel") == "CREATE_COMPLETE"
    events = list(reversed(cfn.describe_stack_events(StackName="parallel")["StackEvents"]))
    steps = [(e["LogicalResourceId"], e["ResourceStatus"]) for e in events]
    first_complete = next(i for i, (_, s) in enumerate(steps) if s == "CREATE_COMPLETE")
    started = {lid for lid, s in steps[:first_complete] if s == "CREATE_IN_PROGRESS"}
    assert {f"Alarm{i}" for i in range(4)} <= started
    last_start = steps.index(("Last", "CREATE_IN_PROGRESS"))
    assert all((f"Alarm{i}", "CREATE_COMPLETE") in steps[:last_start] for i in range(4))


def test_independent_resources_are_updated_at_the_same_time(local_aws):
    cfn = local_aws.client("cloudformation")
    alarms = {f"Alarm{i}": alarm(10, name=f"updated-{i}") for i in range(3)}
    cfn.create_stack(StackName="parallel-update", TemplateBody=template(alarms))
    local_aws.settings(pace=PACE)
    changed = {f"Alarm{i}": alarm(20, name=f"updated-{i}") for i in range(3)}
    cfn.update_stack(StackName="parallel-update", TemplateBody=template(changed))
    assert _wait(cfn, "parallel-update") == "UPDATE_COMPLETE"
    events = list(reversed(cfn.describe_stack_events(StackName="parallel-update")["StackEvents"]))
    steps = [(e["LogicalResourceId"], e["ResourceStatus"]) for e in events]
    steps = steps[steps.index(("parallel-update", "UPDATE_IN_PROGRESS")) :]
    first_complete = next(i for i, (_, s) in enumerate(steps) if s == "UPDATE_COMPLETE")
    started = {lid for lid, s in steps[:first_complete] if s == "UPDATE_IN_PROGRESS"}
    assert {f"Alarm{i}" for i in range(3)} <= started


def test_a_paced_change_set_is_being_made_before_it_can_be_executed(local_aws):
    """API_DescribeChangeSet Status CREATE_IN_PROGRESS, then CREATE_COMPLETE; ExecuteChangeSet
    fails with InvalidChangeSetStatus while "the change set status might be
    CREATE_IN_PROGRESS" (API_ExecuteChangeSet)."""
    cfn = local_aws.client("cloudformation")
    local_aws.settings(pace=PACE)
    made = cfn.create_change_set(
        StackName="made",
        ChangeSetName="c",
        ChangeSetType="CREATE",
        TemplateBody=template({"Alarm": alarm()}),
    )
    first = cfn.describe_change_set(ChangeSetName=made["Id"])
    assert (first["Status"], first["ExecutionStatus"], first["Changes"]) == (
        "CREATE_IN_PROGRESS",
        "UNAVAILABLE",
        [],
    )
    with pytest.raises(ClientError) as raised:
        cfn.execute_change_set(ChangeSetName=made["Id"])
    assert raised.value.response["Error"]["Code"] == "InvalidChangeSetStatus"
    cfn.get_waiter("change_set_create_complete").wait(
        ChangeSetName=made["Id"], WaiterConfig={"Delay": 1, "MaxAttempts": 10}
    )
    ready = cfn.describe_change_set(ChangeSetName=made["Id"])
    assert (ready["Status"], ready["ExecutionStatus"]) == ("CREATE_COMPLETE", "AVAILABLE")
    assert [c["ResourceChange"]["LogicalResourceId"] for c in ready["Changes"]] == ["Alarm"]


def test_a_paced_delete_removes_dependents_first_and_independent_ones_at_once(local_aws):
    cfn = local_aws.client("cloudformation")
    resources = {f"Alarm{i}": alarm(name=f"deleted-{i}") for i in range(3)}
    resources["Last"] = {**alarm(name="deleted-last"), "DependsOn": sorted(resources)}
    stack_id = cfn.create_stack(StackName="paced-delete", TemplateBody=template(resources))[
        "StackId"
    ]
    local_aws.settings(pace=PACE)
    cfn.delete_stack(StackName="paced-delete")
    assert _wait(cfn, stack_id) == "DELETE_COMPLETE"
    events = list(reversed(cfn.describe_stack_events(StackName=stack_id)["StackEvents"]))
    steps = [(e["LogicalResourceId"], e["ResourceStatus"]) for e in events]
    steps = steps[steps.index(("paced-delete", "DELETE_IN_PROGRESS")) :]
    last_gone = steps.index(("Last", "DELETE_COMPLETE"))
    assert all((f"Alarm{i}", "DELETE_IN_PROGRESS") in steps[last_gone:] for i in range(3))
    first_gone = next(
        i for i, (lid, s) in enumerate(steps) if lid.startswith("Alarm") and s == "DELETE_COMPLETE"
    )
    started = {lid for lid, s in steps[:first_gone] if s == "DELETE_IN_PROGRESS"}
    assert {f"Alarm{i}" for i in range(3)} <= started
