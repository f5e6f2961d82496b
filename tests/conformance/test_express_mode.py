"""Express mode (DeploymentConfig Mode EXPRESS) as the AWS CloudFormation documentation
describes it: what `plan --express` relies on. Every expected value is transcribed from the
page cited in its test's docstring."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conformance.conftest import CAPS
from tests.conformance.templates import log_group, template


def _change_set(target, stack: str, **extra) -> dict:
    made = target.client("cloudformation").create_change_set(
        StackName=stack,
        ChangeSetName="express",
        ChangeSetType="CREATE",
        TemplateBody=template({"Logs": log_group()}),
        Capabilities=CAPS,
        **extra,
    )
    return target.change_set(made["Id"])


def test_describe_change_set_returns_its_deployment_config(target, stacks):
    """CreateChangeSet DeploymentConfig "The deployment configuration for a stack operation,
    including the deployment mode"; Mode "EXPRESS - Complete the stack operation when resource
    configuration is applied, without waiting for resources to become ready to serve traffic";
    DisableRollback "Default: false"
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DeploymentConfig.html);
    DescribeChangeSet returns DeploymentConfig (API_DescribeChangeSet.html, Response Elements),
    and executing the change set applies it: "If the change set was created with express mode
    ..., CloudFormation applies express mode when you execute the change set"
    (using-cfn-updating-stacks-changesets-execute.html)."""
    name = stacks.name()
    config = {"Mode": "EXPRESS", "DisableRollback": False}
    described = _change_set(target, name, DeploymentConfig=config)
    assert described["DeploymentConfig"] == config
    target.client("cloudformation").execute_change_set(ChangeSetName=described["ChangeSetId"])
    assert target.settle(name)["StackStatus"] == "CREATE_COMPLETE"


def test_a_change_set_without_deployment_config_is_standard(target, stacks):
    """Mode "STANDARD - Use the standard deployment behavior ... This is the default. You do
    not need to specify this value explicitly" (API_DeploymentConfig.html): a change set made
    without it never reports EXPRESS."""
    described = _change_set(target, stacks.name())
    assert described.get("DeploymentConfig", {}).get("Mode", "STANDARD") == "STANDARD"


def test_an_unknown_mode_is_refused(target, stacks):
    """DeploymentConfig Mode "Valid Values: STANDARD | EXPRESS" (API_DeploymentConfig.html)."""
    with pytest.raises(ClientError) as refused:
        _change_set(target, stacks.name(), DeploymentConfig={"Mode": "FAST"})
    assert refused.value.response["Error"]["Code"] == "ValidationError"
