"""Deleting a change set, as the deployer does on every way out of a flow that made one
(mirror_infra/deploy/change_sets.py): refused while it is still being made, accepted once it
is. Kept in a file of its own: tests/conformance/test_change_sets.py holds the rest."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conformance.conftest import CAPS
from tests.conformance.templates import log_group, template


def _log_retention_change_set(cfn, stack: str, name: str) -> str:
    """An UPDATE change set of `stack` (made from log_group(1)) to a 3-day retention; its id."""
    made = cfn.create_change_set(
        StackName=stack,
        ChangeSetName=name,
        ChangeSetType="UPDATE",
        TemplateBody=template({"Logs": log_group(3)}),
        Capabilities=CAPS,
    )
    return made["Id"]


def test_a_change_set_is_deleted_only_once_it_has_been_made(target, stacks):
    """DeleteChangeSet: InvalidChangeSetStatus, "The specified change set can't be used to
    update the stack. For example, the change set status might be CREATE_IN_PROGRESS"; once
    deleted, ListChangeSets no longer lists it
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DeleteChangeSet.html).
    On AWS a change set is made asynchronously, so the first look sees it CREATE_IN_PROGRESS
    unless it was quick; the refusal is checked whenever it is seen so."""
    name = stacks.name()
    cfn = target.client("cloudformation")
    target.create(name, template({"Logs": log_group(1)}))
    with target.slow():
        made = _log_retention_change_set(cfn, name, "deleted")
        seen = cfn.describe_change_set(ChangeSetName=made)["Status"]
        if seen == "CREATE_IN_PROGRESS":
            with pytest.raises(ClientError) as raised:
                cfn.delete_change_set(ChangeSetName=made)
            assert raised.value.response["Error"]["Code"] == "InvalidChangeSetStatus"
        elif target.real:
            pytest.skip(f"AWS had made the change set by the first look ({seen})")
        else:
            pytest.fail(f"the paced local AWS showed the new change set {seen}")
        assert target.change_set(made)["Status"] == "CREATE_COMPLETE"
    cfn.delete_change_set(ChangeSetName=made)
    assert cfn.list_change_sets(StackName=name)["Summaries"] == []


def test_a_deleted_change_set_is_not_found(target, stacks):
    """DescribeChangeSet and ExecuteChangeSet on a change set that no longer exists answer
    ChangeSetNotFound (HTTP 404): "The specified change set name or ID doesn't exit"
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeChangeSet.html,
    https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ExecuteChangeSet.html;
    botocore's model: ChangeSetNotFoundException, code ChangeSetNotFound). The deployer reads a
    saved plan's change set this way (mirror_infra/deploy/stale.py)."""
    name = stacks.name()
    cfn = target.client("cloudformation")
    target.create(name, template({"Logs": log_group(1)}))
    made = _log_retention_change_set(cfn, name, "gone")
    assert target.change_set(made)["Status"] == "CREATE_COMPLETE"
    cfn.delete_change_set(ChangeSetName=made)
    for call in (cfn.describe_change_set, cfn.execute_change_set):
        with pytest.raises(ClientError) as raised:
            call(ChangeSetName=made)
        error = raised.value.response
        assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (
            "ChangeSetNotFound",
            404,
        ), call.__name__
