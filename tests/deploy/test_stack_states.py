"""Stack states and their way out: UPDATE_ROLLBACK_FAILED on the local AWS (its fault switch
fails a rollback), and, through botocore's Stubber in AWS's response shapes, what the local AWS
cannot produce: a stack that still shows its old status after ExecuteChangeSet (it marks the
operation started within the call, even in its paced mode), and a protected failed create
seen by bootstrap. Waiting, cancel and detach run on the paced local AWS (test_interrupt.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.stub import ANY, Stubber

from mirror_infra.deploy import operation, plan
from mirror_infra.deploy.context import Deployment
from mirror_infra.errors import DeployError

STACK_ID = "arn:aws:cloudformation:us-east-1:111122223333:stack/mirror-dissonance-staging/1"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _stack(status: str, reason: str = "") -> dict:
    return {
        "Stacks": [
            {
                "StackName": "mirror-dissonance-staging",
                "StackId": STACK_ID,
                "StackStatus": status,
                "StackStatusReason": reason,
                "CreationTime": NOW,
                "LastUpdatedTime": NOW,
                "EnableTerminationProtection": False,
            }
        ]
    }


@pytest.fixture
def stubbed(project, monkeypatch):
    """A deployment whose CloudFormation client answers from a Stubber, as AWS would: no
    header says an operation ended inside its call, so following one pauses first; the
    pauses are skipped here (what is called, not when, is under test)."""
    from mirror_infra.deploy import operation as applying

    monkeypatch.setattr(applying.time, "sleep", lambda seconds: None)
    dep = Deployment.open("staging", None, local=True, profile=None)
    cfn = dep.target.session.client("cloudformation", region_name="us-east-1")
    dep.target._clients["cloudformation"] = cfn
    with Stubber(cfn) as stubber:
        yield dep, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def rollback_failed(project, local_aws):
    """The environment's stack name left UPDATE_ROLLBACK_FAILED on the local AWS: an update
    fails on Second, and rolling First back fails too (the fault switch)."""
    from tests.localaws.stacks import two_alarms

    dep = Deployment.open("staging", None, local=True, profile=None)
    cfn = local_aws.client("cloudformation")
    cfn.create_stack(StackName=dep.stack_name, TemplateBody=two_alarms(10, 10))
    local_aws.settings(fail_update=["Second"], fail_rollback=["First"])
    cfn.update_stack(StackName=dep.stack_name, TemplateBody=two_alarms(20, 20))
    return dep


def test_plan_on_update_rollback_failed_names_the_way_out(rollback_failed, local_aws):
    """Only First failed to roll back; Second is UPDATE_FAILED because its update failed, and
    ContinueUpdateRollback refuses to skip it ("You can specify only resources that are in the
    UPDATE_FAILED state because a rollback failed", API_ContinueUpdateRollback). The advice
    names First alone, and following it ends the rollback."""
    with pytest.raises(DeployError) as raised:
        plan.create_plan(rollback_failed, build=_NoBuild(), bucket="b")
    assert str(raised.value) == (
        "mirror-dissonance-staging is UPDATE_ROLLBACK_FAILED (The following resource(s) failed "
        "to update: [First]. ); failed to roll back: First; run 'mirror-infra apply "
        "--continue-rollback --env staging --local' (add --skip-resource First "
        "for the resources that cannot roll back)"
    )
    local_aws.settings(fail_update=[], fail_rollback=[])
    finished = operation.continue_rollback(rollback_failed, ["First"]).follow(lambda e: None, 30)
    assert str(finished.status) == "UPDATE_ROLLBACK_COMPLETE"


def test_continue_rollback_skips_exactly_the_named_resources(rollback_failed, local_aws):
    execution = operation.continue_rollback(rollback_failed, ["First"])
    assert execution.token.startswith("mirror-infra-")  # the call is idempotent
    finished = execution.follow(lambda event: None, timeout=30)
    assert str(finished.status) == "UPDATE_ROLLBACK_COMPLETE"
    cfn = local_aws.client("cloudformation")
    events = cfn.describe_stack_events(StackName=execution.stack_id)
    skipped = [
        e["LogicalResourceId"]
        for e in events["StackEvents"]
        if e.get("ResourceStatusReason") == "Resource skipped during rollback"
    ]
    assert skipped == ["First"]


def test_continue_rollback_refuses_a_healthy_stack(project, local_aws):
    from tests.localaws.stacks import two_alarms

    dep = Deployment.open("staging", None, local=True, profile=None)
    cfn = local_aws.client("cloudformation")
    cfn.create_stack(StackName=dep.stack_name, TemplateBody=two_alarms(10, 10))
    with pytest.raises(DeployError, match="is CREATE_COMPLETE, not UPDATE_ROLLBACK_FAILED"):
        operation.continue_rollback(dep, [])


class _NoBuild:
    """create_plan must refuse before it reads any template."""

    def __getattr__(self, name):  # pragma: no cover - reaching here is the failure
        raise AssertionError(f"the build was read ({name}) before the stack state was checked")


def test_follow_does_not_mistake_the_status_before_execution_for_its_end(stubbed):
    """Right after ExecuteChangeSet AWS may still report the old status; wait for events."""
    from mirror_infra.deploy.operation import Execution

    dep, stubber = stubbed
    event = {
        "StackId": STACK_ID,
        "EventId": "e-old",
        "StackName": "mirror-dissonance-staging",
        "LogicalResourceId": "mirror-dissonance-staging",
        "PhysicalResourceId": STACK_ID,
        "ResourceType": "AWS::CloudFormation::Stack",
        "Timestamp": NOW,
        "ResourceStatus": "UPDATE_COMPLETE",
    }
    new = {
        **event,
        "EventId": "e-new",
        "ResourceStatus": "UPDATE_IN_PROGRESS",
        "Timestamp": NOW.replace(minute=1),
    }
    done = {**event, "EventId": "e-done", "Timestamp": NOW.replace(minute=2)}
    stubber.add_response("describe_stack_events", {"StackEvents": [event]}, {"StackName": STACK_ID})
    execution = Execution(dep, STACK_ID)
    # poll 1: nothing new yet (the stack would still show the status from before): the old
    # final event is not this operation's end, so the status is not even asked
    stubber.add_response("describe_stack_events", {"StackEvents": [event]}, {"StackName": STACK_ID})
    # poll 2: the update has started and finished; the root's own final event is the answer:
    # no DescribeStacks to confirm it, no second read of the root (the Stubber refuses any
    # call not queued here)
    stubber.add_response(
        "describe_stack_events", {"StackEvents": [done, new, event]}, {"StackName": STACK_ID}
    )
    seen = []
    finished = execution.follow(seen.append, timeout=30)
    assert finished.ok
    assert [e.status for e in seen] == ["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"]


def test_bootstrap_replaces_a_failed_first_create_despite_its_termination_protection(
    project, local_aws
):
    """AWS refuses to delete a protected stack even when its create failed; bootstrap turns
    the protection off first, deletes, and creates the bucket stack again. The first create
    fails late on the local AWS (fault switch), after the bucket exists."""
    from mirror_infra.aws.target import Target
    from mirror_infra.deploy.bootstrap import bootstrap
    from templates_src.artifacts import STACK_NAME

    target = Target.resolve("us-east-1", local=True, profile=None)
    local_aws.settings(fail_create=["ArtifactsBucketPolicy"])
    with pytest.raises(DeployError, match="ROLLBACK_COMPLETE"):
        bootstrap(target)
    stack = target.client("cloudformation").describe_stacks(StackName=STACK_NAME)["Stacks"][0]
    assert (stack["StackStatus"], stack["EnableTerminationProtection"]) == (
        "ROLLBACK_COMPLETE",
        True,
    )
    local_aws.settings(fail_create=[])
    result = bootstrap(target)
    assert result.action == "created"
    assert result.bucket.startswith("mirror-infra-artifacts-")


NESTED_IAM = "arn:aws:cloudformation:us-east-1:111122223333:stack/mirror-dissonance-staging-Iam/2"


def _summary(logical_id: str, type_: str, status: str, physical: str = "p") -> dict:
    return {
        "LogicalResourceId": logical_id,
        "PhysicalResourceId": physical,
        "ResourceType": type_,
        "LastUpdatedTimestamp": NOW,
        "ResourceStatus": status,
    }


def test_the_way_out_names_nested_resources_as_continue_rollback_expects(stubbed):
    """The way out names the resources stuck in UPDATE_FAILED, qualified as
    ContinueUpdateRollback's ResourcesToSkip expects (NestedStack.LogicalId)."""
    dep, stubber = stubbed
    stubber.add_response(
        "describe_stacks",
        _stack("UPDATE_ROLLBACK_FAILED", "The following resource(s) failed to update: [Iam]."),
        {"StackName": "mirror-dissonance-staging"},
    )
    root = [
        _summary("Iam", "AWS::CloudFormation::Stack", "UPDATE_FAILED", NESTED_IAM),
        _summary("Kms", "AWS::CloudFormation::Stack", "UPDATE_COMPLETE", ""),
    ]
    nested = [
        _summary("AppRole", "AWS::IAM::Role", "UPDATE_FAILED"),
        _summary("Other", "AWS::IAM::Policy", "UPDATE_COMPLETE"),
    ]
    stubber.add_response(
        "list_stack_resources", {"StackResourceSummaries": root}, {"StackName": STACK_ID}
    )
    stubber.add_response(
        "list_stack_resources", {"StackResourceSummaries": nested}, {"StackName": NESTED_IAM}
    )
    # newest first: AppRole failed again after the nested stack's rollback began
    events = [
        {
            **_event("e3", "UPDATE_FAILED", "t1", 3),
            "LogicalResourceId": "AppRole",
            "PhysicalResourceId": "p",
        },
        {**_event("e2", "UPDATE_ROLLBACK_IN_PROGRESS", "t1", 2), "PhysicalResourceId": NESTED_IAM},
        {
            **_event("e1", "UPDATE_FAILED", "t1", 1),
            "LogicalResourceId": "Other",
            "PhysicalResourceId": "p",
        },
    ]
    stubber.add_response(
        "describe_stack_events", {"StackEvents": events}, {"StackName": NESTED_IAM}
    )
    with pytest.raises(DeployError) as raised:
        plan.create_plan(dep, build=_NoBuild(), bucket="b")
    assert str(raised.value) == (
        "mirror-dissonance-staging is UPDATE_ROLLBACK_FAILED (The following resource(s) failed "
        "to update: [Iam].); failed to roll back: Iam.AppRole; run 'mirror-infra apply "
        "--continue-rollback --env staging --local' (add --skip-resource Iam.AppRole for the "
        "resources that cannot roll back)"
    )


def _event(event_id: str, status: str, token: str, minute: int) -> dict:
    return {
        "StackId": STACK_ID,
        "EventId": event_id,
        "StackName": "mirror-dissonance-staging",
        "LogicalResourceId": "mirror-dissonance-staging",
        "PhysicalResourceId": STACK_ID,
        "ResourceType": "AWS::CloudFormation::Stack",
        "Timestamp": NOW.replace(minute=minute),
        "ResourceStatus": status,
        "ClientRequestToken": token,
    }


def test_execution_is_idempotent_and_follows_only_its_own_events(stubbed):
    """ExecuteChangeSet carries a ClientRequestToken (a retried call is the same operation) and
    RetainExceptOnCreate (a failed create leaves nothing); events carrying another operation's
    token are not this one's (API_StackEvent.html: ClientRequestToken)."""
    from mirror_infra.deploy.plan import Plan

    dep, stubber = stubbed
    plan = Plan("staging", "us-east-1", "mirror-dissonance-staging", "cs-1", False, [], {}, {}, "")
    stubber.add_response(
        "describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": plan.stack_name}
    )
    stubber.add_response("describe_stack_events", {"StackEvents": []}, {"StackName": STACK_ID})
    stubber.add_response(
        "execute_change_set",
        {},
        {"ChangeSetName": "cs-1", "ClientRequestToken": ANY, "RetainExceptOnCreate": True},
    )
    execution = operation.start(dep, plan, set())
    ours = execution.token
    events = [
        _event("e3", "UPDATE_COMPLETE", ours, 3),
        _event("e2", "UPDATE_IN_PROGRESS", "another-operation", 2),
        _event("e1", "UPDATE_IN_PROGRESS", ours, 1),
    ]
    stubber.add_response("describe_stack_events", {"StackEvents": events}, {"StackName": STACK_ID})
    seen = []
    assert execution.follow(seen.append, timeout=30).ok
    assert [e.event_id for e in seen] == ["e1", "e3"]


def test_throttling_while_following_is_waited_out_not_fatal(stubbed, monkeypatch):
    """Once botocore's retries run out, Throttling must not end the follow while the operation
    goes on in AWS (API_DescribeStackEvents.html: Throttling, HTTP 400)."""
    monkeypatch.setattr("mirror_infra.deploy.operation.THROTTLED_PAUSE", 0.01)
    dep, stubber = stubbed
    stubber.add_response("describe_stack_events", {"StackEvents": []}, {"StackName": STACK_ID})
    execution = operation.Execution(dep, STACK_ID)
    stubber.add_client_error(
        "describe_stack_events", "Throttling", "Rate exceeded", 400, {"StackName": STACK_ID}
    )
    done = _event("e1", "UPDATE_COMPLETE", execution.token, 1)
    stubber.add_response("describe_stack_events", {"StackEvents": [done]}, {"StackName": STACK_ID})
    seen = []
    assert execution.follow(seen.append, timeout=30).ok
    assert [e.event_id for e in seen] == ["e1"]


def test_a_timeout_shorter_than_the_first_pause_still_gets_its_look(stubbed):
    """The first look waits its second of the call budget, but never past the deadline: a
    short timeout looks once (and finds the end) rather than giving up unseen."""
    dep, stubber = stubbed
    stubber.add_response("describe_stack_events", {"StackEvents": []}, {"StackName": STACK_ID})
    execution = operation.Execution(dep, STACK_ID)
    done = _event("e1", "UPDATE_COMPLETE", execution.token, 1)
    stubber.add_response("describe_stack_events", {"StackEvents": [done]}, {"StackName": STACK_ID})
    assert execution.follow(lambda event: None, timeout=0.5).ok
