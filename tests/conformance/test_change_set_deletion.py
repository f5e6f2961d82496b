"""Deleting a change set, as the deployer does on every way out of a flow that made one
(mirror_infra/deploy/change_sets.py): refused while it is still being made, accepted once it
is. Kept in a file of its own: tests/conformance/test_change_sets.py holds the rest."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conformance.conftest import CAPS
from tests.conformance.templates import log_group, template


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
        made = cfn.create_change_set(
            StackName=name,
            ChangeSetName="deleted",
            ChangeSetType="UPDATE",
            TemplateBody=template({"Logs": log_group(3)}),
            Capabilities=CAPS,
        )
        seen = cfn.describe_change_set(ChangeSetName=made["Id"])["Status"]
        if seen == "CREATE_IN_PROGRESS":
            with pytest.raises(ClientError) as raised:
                cfn.delete_change_set(ChangeSetName=made["Id"])
            assert raised.value.response["Error"]["Code"] == "InvalidChangeSetStatus"
        elif target.real:
            pytest.skip(f"AWS had made the change set by the first look ({seen})")
        else:
            pytest.fail(f"the paced local AWS showed the new change set {seen}")
        assert target.change_set(made["Id"])["Status"] == "CREATE_COMPLETE"
    cfn.delete_change_set(ChangeSetName=made["Id"])
    assert cfn.list_change_sets(StackName=name)["Summaries"] == []
