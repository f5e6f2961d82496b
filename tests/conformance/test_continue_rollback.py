"""ContinueUpdateRollback's ResourcesToSkip
(https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ContinueUpdateRollback.html):
"You can specify only resources that are in the UPDATE_FAILED state because a rollback failed.
You can't specify resources that are in the UPDATE_FAILED state for other reasons"; the skipped
ones are set to UPDATE_COMPLETE and the rollback goes on."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conformance.templates import log_group, template


def _two_groups(retention: int) -> str:
    second = {**log_group(retention), "DependsOn": "First"}
    return template({"First": log_group(retention), "Second": second})


def test_only_a_resource_whose_rollback_failed_can_be_skipped(target, stacks):
    name = stacks.name()
    cfn = target.client("cloudformation")
    target.create(name, _two_groups(1))
    # Second's update fails, and rolling First back fails too: UPDATE_ROLLBACK_FAILED, with
    # Second UPDATE_FAILED because its update failed, First because its rollback did
    with target.failing(fail_update=["Second"], fail_rollback=["First"]):
        cfn.update_stack(StackName=name, TemplateBody=_two_groups(3))
        assert target.settle(name)["StackStatus"] == "UPDATE_ROLLBACK_FAILED"
    with pytest.raises(ClientError) as refused:
        cfn.continue_update_rollback(StackName=name, ResourcesToSkip=["Second"])
    assert refused.value.response["Error"]["Code"] == "ValidationError"
    assert target.settle(name)["StackStatus"] == "UPDATE_ROLLBACK_FAILED"  # nothing done
    cfn.continue_update_rollback(StackName=name, ResourcesToSkip=["First"])
    assert target.settle(name)["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    first = cfn.describe_stack_resource(StackName=name, LogicalResourceId="First")
    assert first["StackResourceDetail"]["ResourceStatus"] == "UPDATE_COMPLETE"
