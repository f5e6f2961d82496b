"""What `adopt` relies on besides import itself, as AWS documents it: finding the stack that
owns a resource by its physical id, a placeholder resource for a nested stack whose resources
are all still to import, and a root change set that reads a nested output the same update
adds."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from tests.conformance.conftest import CAPS
from tests.conformance.templates import log_group, nested, table, template

PLACEHOLDER = {"Type": "AWS::CloudFormation::WaitConditionHandle"}


def test_the_owner_of_a_resource_is_found_by_its_physical_id(target, stacks):
    """DescribeStackResources, PhysicalResourceId: "You can pass the EC2 InstanceId to
    DescribeStackResources to find which stack the instance belongs to and what other resources
    are part of the stack." A physical id no stack holds: a ValidationError, "Stack for ... does
    not exist". (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStackResources.html)"""
    name = stacks.name()
    target.create(name, template({"Group": log_group()}))
    cfn = target.client("cloudformation")
    group = cfn.describe_stack_resource(StackName=name, LogicalResourceId="Group")
    physical = group["StackResourceDetail"]["PhysicalResourceId"]
    found = cfn.describe_stack_resources(PhysicalResourceId=physical)["StackResources"]
    assert {(r["StackName"], r["LogicalResourceId"]) for r in found} == {(name, "Group")}
    with pytest.raises(ClientError) as refused:
        cfn.describe_stack_resources(PhysicalResourceId="/mi-conf/owned-by-no-stack")
    assert "does not exist" in str(refused.value)


def test_a_wait_condition_handle_is_a_resource_that_holds_nothing(target, stacks):
    """AWS::CloudFormation::WaitConditionHandle takes no properties; Ref gives a presigned URL
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudformation-waitconditionhandle.html)."""
    name = stacks.name()
    target.create(
        name,
        template({"Placeholder": PLACEHOLDER}, {"Url": {"Value": {"Ref": "Placeholder"}}}),
    )
    stack = target.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    assert stack["Outputs"][0]["OutputValue"].startswith("https://")


def test_a_root_change_set_reads_an_output_its_nested_stack_adds(target, stacks, artifacts):
    """A nested stack's outputs are read with Fn::GetAtt Outputs.Name; in a change set a value
    only known once a resource is updated is shown as unknown and resolved when the update runs
    ("CloudFormation can't determine the value until the change set is executed",
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-changesets-samples.html)."""
    before = artifacts.put(template({"Placeholder": PLACEHOLDER}))
    after = artifacts.put(
        template({"Group": log_group()}, {"GroupName": {"Value": {"Ref": "Group"}}})
    )
    reader_url = artifacts.put(
        json.dumps(
            {
                "Parameters": {"Source": {"Type": "String"}},
                "Resources": {"Group": log_group()},
                "Outputs": {"Source": {"Value": {"Ref": "Source"}}},
            }
        )
    )
    name = stacks.name()
    literal = nested(reader_url, Parameters={"Source": "given"})
    target.create(name, template({"Child": nested(before), "Reader": literal}))
    # the other nested stack now takes the new output instead, as adopt's converge step does
    source = {"Source": {"Fn::GetAtt": ["Child", "Outputs.GroupName"]}}
    reader = nested(reader_url, Parameters=source)
    cfn = target.client("cloudformation")
    made = cfn.create_change_set(
        StackName=name,
        ChangeSetName="reads-a-new-output",
        TemplateBody=template({"Child": nested(after), "Reader": reader}),
        Capabilities=CAPS,
        IncludeNestedStacks=True,
    )
    described = target.change_set(made["Id"])
    assert described["Status"] == "CREATE_COMPLETE", described.get("StatusReason")
    cfn.execute_change_set(ChangeSetName=made["Id"])
    assert target.settle(name)["StackStatus"] == "UPDATE_COMPLETE"


def test_the_parent_names_a_nested_stack_while_it_is_being_created(target, stacks, artifacts):
    """A nested stack's parent reports it CREATE_IN_PROGRESS with "Resource creation
    Initiated" and the nested stack's id as soon as the nested stack exists, so a client can
    follow it while it works (the parent's events, DescribeStackEvents: "Resource creation
    Initiated" is the status reason of a resource whose creation the handler has begun,
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stack-resource-configuration-complete.html
    and the nested-stack events of using-cfn-nested-stacks.html). Paced, as on AWS."""
    child = artifacts.put(template({"Group": log_group(), "Slow": table()}))
    name = stacks.name()
    cfn = target.client("cloudformation")
    with target.slow():
        cfn.create_stack(
            StackName=name, TemplateBody=template({"Child": nested(child)}), Capabilities=CAPS
        )
        nested_id = ""
        while not nested_id:
            events = cfn.describe_stack_events(StackName=name)["StackEvents"]
            nested_id = next(
                (
                    e["PhysicalResourceId"]
                    for e in events
                    if e["LogicalResourceId"] == "Child" and e.get("PhysicalResourceId")
                ),
                "",
            )
            root = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
            assert root == "CREATE_IN_PROGRESS", "the nested stack was named only at the end"
            time.sleep(target.poll)
        child_status = cfn.describe_stacks(StackName=nested_id)["Stacks"][0]["StackStatus"]
        assert child_status == "CREATE_IN_PROGRESS"
        assert target.settle(name)["StackStatus"] == "CREATE_COMPLETE"
