"""Stack operations as the AWS CloudFormation documentation describes them: rollback states,
deletion policies, failure options, cancel, stack policies, limits of the API.

Every expected value is transcribed from the page cited in its test's docstring."""

from __future__ import annotations

import contextlib
import json

import pytest
from botocore.exceptions import ClientError

from tests.conformance.conftest import PREFIX
from tests.conformance.templates import broken_table, log_group, table, template, topic


def _events(target, stack: str) -> list[dict]:
    cfn = target.client("cloudformation")
    pages = cfn.get_paginator("describe_stack_events").paginate(StackName=stack)
    return [e for page in pages for e in page["StackEvents"]]


def _physical_id(target, stack: str, logical_id: str) -> str:
    for event in _events(target, stack):
        if event["LogicalResourceId"] == logical_id and event.get("PhysicalResourceId"):
            return event["PhysicalResourceId"]
    raise AssertionError(f"{logical_id} never got a physical id")


def _topic_exists(target, arn: str) -> bool:
    try:
        target.client("sns").get_topic_attributes(TopicArn=arn)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "NotFound":
            return False
        raise
    return True


def test_a_failed_create_rolls_back_to_rollback_complete(target, stacks):
    """ROLLBACK_COMPLETE: "Successful removal of one or more stacks after a failed stack
    creation or after an explicitly canceled stack creation. Any resources that were created
    during the create stack operation are deleted." (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/view-stack-events.html)."""
    name = stacks.name()
    body = template({"Topic": topic(), "Table": broken_table(after="Topic")})
    target.client("cloudformation").create_stack(StackName=name, TemplateBody=body)
    assert target.settle(name)["StackStatus"] == "ROLLBACK_COMPLETE"
    assert not _topic_exists(target, _physical_id(target, name, "Topic"))


def test_a_failed_update_rolls_back_to_update_rollback_complete(target, stacks):
    """UPDATE_ROLLBACK_COMPLETE: "Successful return of one or more stacks to a previous
    working state after a failed stack update." (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/view-stack-events.html)."""
    name = stacks.name()
    cfn = target.client("cloudformation")
    cfn.create_stack(StackName=name, TemplateBody=template({"Topic": topic("v1")}))
    target.settle(name)
    broken = template({"Topic": topic("v2"), "Table": broken_table(after="Topic")})
    cfn.update_stack(StackName=name, TemplateBody=broken)
    assert target.settle(name)["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    arn = _physical_id(target, name, "Topic")
    attributes = target.client("sns").get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["DisplayName"] == "v1"


def test_on_failure_do_nothing_keeps_what_was_created(target, stacks):
    """OnFailure DO_NOTHING: "Determines what action will be taken if stack creation fails"
    (ROLLBACK | DELETE | DO_NOTHING); CREATE_FAILED: "Unsuccessful creation of one or more
    stacks." (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html)
    """
    name = stacks.name()
    body = template({"Topic": topic(), "Table": broken_table(after="Topic")})
    target.client("cloudformation").create_stack(
        StackName=name, TemplateBody=body, OnFailure="DO_NOTHING"
    )
    assert target.settle(name)["StackStatus"] == "CREATE_FAILED"
    assert _topic_exists(target, _physical_id(target, name, "Topic"))


def test_disable_rollback_leaves_a_failed_update_update_failed(target, stacks):
    """UpdateStack DisableRollback: "Preserve the state of previously provisioned resources
    when an operation fails." (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_UpdateStack.html);
    UPDATE_FAILED: "Unsuccessful update of one or more stacks." (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/view-stack-events.html)."""
    name = stacks.name()
    cfn = target.client("cloudformation")
    cfn.create_stack(StackName=name, TemplateBody=template({"Topic": topic("v1")}))
    target.settle(name)
    broken = template({"Topic": topic("v2"), "Table": broken_table(after="Topic")})
    cfn.update_stack(StackName=name, TemplateBody=broken, DisableRollback=True)
    assert target.settle(name)["StackStatus"] == "UPDATE_FAILED"
    arn = _physical_id(target, name, "Topic")
    attributes = target.client("sns").get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["DisplayName"] == "v2"  # kept as the failed update left it


def test_retain_except_on_create_deletes_on_a_failed_create_and_retains_on_delete(target, stacks):
    """DeletionPolicy RetainExceptOnCreate: "RetainExceptOnCreate behaves like Retain for stack
    operations, except for the stack operation that initially created the resource. If the
    stack operation that created the resource is rolled back, CloudFormation deletes the
    resource. For all other stack operations, such as stack deletion, CloudFormation retains
    the resource and its contents."
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html)
    """
    cfn = target.client("cloudformation")
    failed = stacks.name()
    kept = {"Topic": topic(DeletionPolicy="RetainExceptOnCreate")}
    body = template({**kept, "Table": broken_table(after="Topic")})
    cfn.create_stack(StackName=failed, TemplateBody=body)
    assert target.settle(failed)["StackStatus"] == "ROLLBACK_COMPLETE"
    assert not _topic_exists(target, _physical_id(target, failed, "Topic"))

    deleted = stacks.name()
    cfn.create_stack(StackName=deleted, TemplateBody=template(kept))
    target.settle(deleted)
    arn = _physical_id(target, deleted, "Topic")
    cfn.delete_stack(StackName=deleted)
    with contextlib.suppress(ClientError):  # AWS no longer describes a deleted stack by name
        assert target.settle(deleted)["StackStatus"] == "DELETE_COMPLETE"
    try:
        assert _topic_exists(target, arn)
    finally:
        target.client("sns").delete_topic(TopicArn=arn)  # retained: this test made it


def test_an_unknown_deletion_policy_is_refused(target, stacks):
    """DeletionPolicy options are Delete, Retain, RetainExceptOnCreate and Snapshot
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html);
    a template error fails the call with a ValidationError (CommonErrors)."""
    name = stacks.name()
    with pytest.raises(ClientError) as raised:
        target.client("cloudformation").create_stack(
            StackName=name, TemplateBody=template({"Topic": topic(DeletionPolicy="Keep")})
        )
    assert raised.value.response["Error"]["Code"] == "ValidationError"


def test_cancel_update_stack_rolls_the_update_back(target, stacks):
    """CancelUpdateStack: "Cancels an update on the specified stack. If the call completes
    successfully, the stack rolls back the update and reverts to the previous stack
    configuration." (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CancelUpdateStack.html)
    """
    name = stacks.name()
    cfn = target.client("cloudformation")
    cfn.create_stack(StackName=name, TemplateBody=template({"Table": table()}))
    target.settle(name)
    # adding an index keeps a real table's update in progress for minutes: time to cancel
    with target.slow():
        cfn.update_stack(StackName=name, TemplateBody=template({"Table": table(indexed=True)}))
        cfn.cancel_update_stack(StackName=name)
        assert target.settle(name)["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    described = target.client("dynamodb").describe_table(
        TableName=_physical_id(target, name, "Table")
    )
    assert described["Table"].get("GlobalSecondaryIndexes", []) == []  # no index


def test_cancel_update_stack_needs_an_update_in_progress(target, stacks):
    """CancelUpdateStack: "You can cancel only stacks that are in the UPDATE_IN_PROGRESS
    state." (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CancelUpdateStack.html)
    """
    name = stacks.name()
    cfn = target.client("cloudformation")
    cfn.create_stack(StackName=name, TemplateBody=template({"Topic": topic()}))
    target.settle(name)
    with pytest.raises(ClientError) as refused:
        cfn.cancel_update_stack(StackName=name)
    assert refused.value.response["Error"]["Code"] == "ValidationError"


def test_a_stack_policy_denies_updates_of_protected_resources(target, stacks):
    """ "When you set a stack policy, all resources in the stack are protected by default";
    an update of a protected resource fails and the stack rolls back
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/protect-stack-resources.html)."""
    name = stacks.name()
    cfn = target.client("cloudformation")
    policy = {
        "Statement": [
            {"Effect": "Deny", "Action": "Update:*", "Principal": "*", "Resource": "*"},
        ]
    }
    cfn.create_stack(
        StackName=name,
        TemplateBody=template({"Topic": topic("v1")}),
        StackPolicyBody=json.dumps(policy),
    )
    target.settle(name)
    cfn.update_stack(StackName=name, TemplateBody=template({"Topic": topic("v2")}))
    assert target.settle(name)["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    arn = _physical_id(target, name, "Topic")
    attributes = target.client("sns").get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["DisplayName"] == "v1"


@pytest.mark.parametrize(
    "bad_name",
    [f"1{PREFIX}starts-with-a-digit", f"{PREFIX}under_score", PREFIX + "x" * (129 - len(PREFIX))],
)
def test_stack_names_follow_the_documented_pattern(target, bad_name):
    """StackName: "A stack name can contain only alphanumeric characters (case sensitive) and
    hyphens. It must start with an alphabetical character and can't be longer than 128
    characters." (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html)
    """
    with pytest.raises(ClientError) as raised:
        target.client("cloudformation").create_stack(
            StackName=bad_name, TemplateBody=template({"Topic": topic()})
        )
    assert raised.value.response["Error"]["Code"] == "ValidationError"


def test_a_template_body_over_51200_bytes_is_refused(target, stacks):
    """Quota "Template body size in a request: 51,200 bytes" (use TemplateURL beyond it)
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html)."""
    name = stacks.name()
    body = template({"Topic": topic()})
    padded = body[:-1] + " " * (51_201 - len(body)) + "}"
    assert len(padded.encode()) == 51_201
    with pytest.raises(ClientError) as raised:
        target.client("cloudformation").create_stack(StackName=name, TemplateBody=padded)
    assert raised.value.response["Error"]["Code"] == "ValidationError"


def test_stack_events_come_in_pages_of_at_most_100(target, stacks):
    """DescribeStackEvents returns a NextToken when more events remain; a page holds at most
    100 events (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStackEvents.html)."""
    name = stacks.name()
    cfn = target.client("cloudformation")
    resources = {f"Logs{i}": log_group(1) for i in range(40)}  # about 122 events
    cfn.create_stack(StackName=name, TemplateBody=template(resources))
    target.settle(name)
    first = cfn.describe_stack_events(StackName=name)
    assert len(first["StackEvents"]) <= 100
    assert "NextToken" in first
    second = cfn.describe_stack_events(StackName=name, NextToken=first["NextToken"])
    seen = [e["EventId"] for e in first["StackEvents"] + second["StackEvents"]]
    assert len(seen) == len(set(seen))
    assert len(seen) >= 121  # 40 resources x 3 events + the stack's own
