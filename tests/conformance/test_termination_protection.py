"""Termination protection and nested stacks, as
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-protect-stacks.html
says: "Enabling or disabling termination protection on a stack passes the same choice on to
any nested stacks belonging to that stack as well. You can't enable or disable termination
protection directly on a nested stack. If a user attempts to directly delete a nested stack
belonging with a stack that has termination protection enabled, the operation fails and the
nested stack remains unchanged." """

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conformance.conftest import CAPS
from tests.conformance.templates import log_group, nested, template


def _protection(cfn, stack: str) -> bool:
    return cfn.describe_stacks(StackName=stack)["Stacks"][0]["EnableTerminationProtection"]


def test_a_protected_root_protects_its_nested_stacks(target, stacks, artifacts):
    cfn = target.client("cloudformation")
    name = stacks.name()
    child = artifacts.put(template({"Logs": log_group(1)}))
    cfn.create_stack(
        StackName=name,
        TemplateBody=template({"Child": nested(child)}),
        Capabilities=CAPS,
        EnableTerminationProtection=True,
    )
    try:
        assert target.settle(name)["StackStatus"] == "CREATE_COMPLETE"
        (resource,) = cfn.describe_stack_resources(StackName=name)["StackResources"]
        nested_id = resource["PhysicalResourceId"]
        assert _protection(cfn, nested_id) is True  # passed on from the root
        with pytest.raises(ClientError) as refused:
            cfn.delete_stack(StackName=nested_id)
        assert refused.value.response["Error"]["Code"] == "ValidationError"
        assert "TerminationProtection" in str(refused.value)
        assert target.settle(nested_id)["StackStatus"] == "CREATE_COMPLETE"  # unchanged
        with pytest.raises(ClientError) as direct:
            cfn.update_termination_protection(
                StackName=nested_id, EnableTerminationProtection=False
            )
        assert direct.value.response["Error"]["Code"] == "ValidationError"
    finally:
        cfn.update_termination_protection(StackName=name, EnableTerminationProtection=False)
    assert _protection(cfn, nested_id) is False  # the root's choice, passed on again
