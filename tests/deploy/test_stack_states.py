"""Stack states the local AWS cannot produce (its operations finish inside the API call), in
AWS's response shapes through botocore's Stubber: UPDATE_ROLLBACK_FAILED and its way out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.stub import ANY, Stubber

from mirror_infra.deploy import apply, plan
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
def stubbed(project):
    dep = Deployment.open("staging", None, local=True, profile=None)
    cfn = dep.target.session.client("cloudformation", region_name="us-east-1")
    dep.target._clients["cloudformation"] = cfn
    with Stubber(cfn) as stubber:
        yield dep, stubber
        stubber.assert_no_pending_responses()


NESTED_IAM = "arn:aws:cloudformation:us-east-1:111122223333:stack/mirror-dissonance-staging-Iam/2"


def _summary(logical_id: str, type_: str, status: str, physical: str = "p") -> dict:
    return {
        "LogicalResourceId": logical_id,
        "PhysicalResourceId": physical,
        "ResourceType": type_,
        "LastUpdatedTimestamp": NOW,
        "ResourceStatus": status,
    }


def test_plan_on_update_rollback_failed_names_the_way_out(stubbed):
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
    with pytest.raises(DeployError) as raised:
        plan.create_plan(dep, build=_NoBuild(), bucket="b")
    assert str(raised.value) == (
        "mirror-dissonance-staging is UPDATE_ROLLBACK_FAILED (The following resource(s) failed "
        "to update: [Iam].); failed to roll back: Iam.AppRole; run 'mirror-infra apply --env "
        "staging --continue-rollback' (add --skip-resource Iam.AppRole for the resources that "
        "cannot roll back)"
    )


def test_continue_rollback_skips_exactly_the_named_resources(stubbed):
    dep, stubber = stubbed
    stubber.add_response(
        "describe_stacks",
        _stack("UPDATE_ROLLBACK_FAILED"),
        {"StackName": "mirror-dissonance-staging"},
    )
    stubber.add_response("describe_stack_events", {"StackEvents": []}, {"StackName": STACK_ID})
    stubber.add_response(
        "continue_update_rollback",
        {},
        {"StackName": STACK_ID, "ResourcesToSkip": ["Iam.AppRole"], "ClientRequestToken": ANY},
    )
    execution = apply.continue_rollback(dep, ["Iam.AppRole"])
    assert execution.stack_id == STACK_ID
    assert execution.token.startswith("mirror-infra-")


def test_continue_rollback_refuses_a_healthy_stack(stubbed):
    dep, stubber = stubbed
    stubber.add_response(
        "describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": "mirror-dissonance-staging"}
    )
    with pytest.raises(DeployError, match="is UPDATE_COMPLETE, not UPDATE_ROLLBACK_FAILED"):
        apply.continue_rollback(dep, [])


class _NoBuild:
    """create_plan must refuse before it reads any template."""

    def __getattr__(self, name):  # pragma: no cover - reaching here is the failure
        raise AssertionError(f"the build was read ({name}) before the stack state was checked")


def test_follow_does_not_mistake_the_status_before_execution_for_its_end(stubbed):
    """Right after ExecuteChangeSet AWS may still report the old status; wait for events."""
    from mirror_infra.deploy.apply import Execution

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
    # poll 1: nothing new yet, and the stack still shows the status from before
    stubber.add_response("describe_stack_events", {"StackEvents": [event]}, {"StackName": STACK_ID})
    stubber.add_response("describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": STACK_ID})
    # poll 2: the update has started and finished
    stubber.add_response(
        "describe_stack_events", {"StackEvents": [done, new, event]}, {"StackName": STACK_ID}
    )
    stubber.add_response("describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": STACK_ID})
    stubber.add_response(
        "describe_stack_events", {"StackEvents": [done, new, event]}, {"StackName": STACK_ID}
    )
    seen = []
    finished = execution.follow(seen.append, timeout=30)
    assert finished.ok
    assert [e.status for e in seen] == ["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"]


def test_bootstrap_replaces_a_failed_first_create_despite_its_termination_protection():
    """AWS refuses to delete a protected stack even when its create failed; bootstrap turns
    the protection off first, deletes, and creates the bucket stack again."""
    from mirror_infra.aws.target import Target
    from mirror_infra.deploy.bootstrap import bootstrap
    from templates_src.artifacts import STACK_NAME

    target = Target.resolve("us-east-1", local=True, profile=None)
    cfn = target.session.client("cloudformation", region_name="us-east-1")
    target._clients["cloudformation"] = cfn

    def stack(status, outputs=()):
        body = _stack(status)
        body["Stacks"][0]["StackName"] = STACK_NAME
        body["Stacks"][0]["Outputs"] = [{"OutputKey": k, "OutputValue": v} for k, v in outputs]
        return body

    with Stubber(cfn) as stubber:
        stubber.add_response(
            "describe_stacks", stack("ROLLBACK_COMPLETE"), {"StackName": STACK_NAME}
        )
        stubber.add_response(
            "update_termination_protection",
            {"StackId": STACK_ID},
            {"StackName": STACK_ID, "EnableTerminationProtection": False},
        )
        # the very stack it saw fail, by id
        stubber.add_response("delete_stack", {}, {"StackName": STACK_ID, "ClientRequestToken": ANY})
        stubber.add_client_error(
            "describe_stacks",
            "ValidationError",
            f"Stack with id {STACK_NAME} does not exist",
            expected_params={"StackName": STACK_NAME},
        )
        stubber.add_response("create_stack", {"StackId": STACK_ID})
        stubber.add_response(
            "describe_stacks",
            stack("CREATE_COMPLETE", [("BucketName", "mirror-infra-artifacts-1-us-east-1")]),
            {"StackName": STACK_NAME},
        )
        result = bootstrap(target)
        stubber.assert_no_pending_responses()
    assert (result.bucket, result.action) == ("mirror-infra-artifacts-1-us-east-1", "created")


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
    execution = apply.start(dep, plan, set())
    ours = execution.token
    events = [
        _event("e3", "UPDATE_COMPLETE", ours, 3),
        _event("e2", "UPDATE_IN_PROGRESS", "another-operation", 2),
        _event("e1", "UPDATE_IN_PROGRESS", ours, 1),
    ]
    stubber.add_response("describe_stack_events", {"StackEvents": events}, {"StackName": STACK_ID})
    stubber.add_response("describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": STACK_ID})
    stubber.add_response("describe_stack_events", {"StackEvents": events}, {"StackName": STACK_ID})
    seen = []
    assert execution.follow(seen.append, timeout=30).ok
    assert [e.event_id for e in seen] == ["e1", "e3"]


def test_throttling_while_following_is_waited_out_not_fatal(stubbed, monkeypatch):
    """Once botocore's retries run out, Throttling must not end the follow while the operation
    goes on in AWS (API_DescribeStackEvents.html: Throttling, HTTP 400)."""
    monkeypatch.setattr("mirror_infra.deploy.apply.THROTTLED_PAUSE", 0.01)
    dep, stubber = stubbed
    stubber.add_response("describe_stack_events", {"StackEvents": []}, {"StackName": STACK_ID})
    execution = apply.Execution(dep, STACK_ID)
    stubber.add_client_error(
        "describe_stack_events", "Throttling", "Rate exceeded", 400, {"StackName": STACK_ID}
    )
    done = _event("e1", "UPDATE_COMPLETE", execution.token, 1)
    stubber.add_response("describe_stack_events", {"StackEvents": [done]}, {"StackName": STACK_ID})
    stubber.add_response("describe_stacks", _stack("UPDATE_COMPLETE"), {"StackName": STACK_ID})
    stubber.add_response("describe_stack_events", {"StackEvents": [done]}, {"StackName": STACK_ID})
    seen = []
    assert execution.follow(seen.append, timeout=30).ok
    assert [e.event_id for e in seen] == ["e1"]
