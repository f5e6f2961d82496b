"""The local AWS shows what cloudformation-coverage-roadmap issue 759 reports (AWS's own
tracker, open: https://github.com/aws-cloudformation/cloudformation-coverage-roadmap/issues/759;
no documentation page covers it): "when parameters of a nested stack resource refers an output
from another nested stack resource using Ref! or Fn::GetAtt it does not recurse the change
detection ... although there're no changes to the bastion stack, it shows that there're changes
and resources will be replaced" — and only with IncludeNestedStacks ("The same changeset
creates fine when --include-nested-stacks option is disabled"). Executing such a change set
replaces nothing: the rows are phantoms."""

from __future__ import annotations

import json

from tests.conformance.templates import fed_by_output
from tests.localaws.stacks import put_template, template

SOURCE = template(
    {
        "Topic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"TopicName": "phantom-source", "DisplayName": {"Ref": "Label"}},
        }
    },
    {"TopicName": {"Value": {"Fn::GetAtt": ["Topic", "TopicName"]}}},
    {"Label": {"Type": "String", "Default": "one"}},
)
CONSUMER = template(
    {
        # TopicName: "Update requires: Replacement" (AWS::SNS::Topic)
        "Named": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"TopicName": {"Fn::Sub": "${SourceName}-copy"}},
        },
        # DisplayName: "Update requires: No interruption"
        "Labelled": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Ref": "Fixed"}}},
        "Follower": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"DisplayName": {"Fn::GetAtt": ["Named", "TopicName"]}},
        },
        "Plain": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "plain"}},
    },
    parameters={"SourceName": {"Type": "String"}, "Fixed": {"Type": "String"}},
)


def _root(aws, label: str = "one") -> str:
    source = put_template(aws, "phantom-source.json", SOURCE)
    consumer = put_template(aws, "phantom-consumer.json", CONSUMER)
    return fed_by_output(source, consumer, label, Fixed="fixed")


def _rows(cfn, change_set_id: str) -> dict[str, dict]:
    described = cfn.describe_change_set(ChangeSetName=change_set_id)
    return {
        c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"] for c in described["Changes"]
    }


def _deployed(aws, label: str = "one") -> tuple:
    cfn = aws.client("cloudformation")
    cfn.create_stack(StackName="phantom", TemplateBody=_root(aws))
    body = _root(aws, label)
    made = cfn.create_change_set(
        StackName="phantom", ChangeSetName="again", TemplateBody=body, IncludeNestedStacks=True
    )
    return cfn, made["Id"]


def test_a_parameter_fed_by_another_nested_stacks_output_is_unresolved_in_the_nested_change_set(
    local_aws,
):
    cfn, change_set = _deployed(local_aws)
    root = _rows(cfn, change_set)
    assert set(root) == {"Source", "Consumer"}
    assert _rows(cfn, root["Source"]["ChangeSetId"]) == {}  # nothing feeds the source
    rows = _rows(cfn, root["Consumer"]["ChangeSetId"])
    # the property that requires replacement: "resources will be replaced"
    named = rows["Named"]
    assert (named["Action"], named["Replacement"]) == ("Modify", "True")
    assert named["Details"] == [
        {
            "Target": {
                "Attribute": "Properties",
                "Name": "TopicName",
                "RequiresRecreation": "Always",
            },
            "Evaluation": "Dynamic",
            "ChangeSource": "ParameterReference",
            "CausingEntity": "SourceName",
        }
    ]
    # its dependents follow: a value read from a resource shown as replaced
    follower = rows["Follower"]
    assert (follower["Action"], follower["Replacement"]) == ("Modify", "False")
    assert [
        (d["ChangeSource"], d["Evaluation"], d.get("CausingEntity")) for d in follower["Details"]
    ] == [("ResourceReference", "Dynamic", "Named")]
    # a parameter given as a literal, and a property of the template's own text, are known
    assert "Labelled" not in rows and "Plain" not in rows


def test_an_in_place_parameter_is_a_dynamic_modify_without_replacement(local_aws):
    """The same, for a property that updates in place: Modify, Replacement False."""
    aws = local_aws
    consumer = json.loads(CONSUMER)
    consumer["Resources"]["Labelled"]["Properties"]["DisplayName"] = {"Ref": "SourceName"}
    put_template(aws, "phantom-consumer.json", json.dumps(consumer))
    cfn = aws.client("cloudformation")
    body = _root(aws).replace("phantom-consumer.json", "phantom-consumer-2.json")
    put_template(aws, "phantom-consumer-2.json", json.dumps(consumer))
    cfn.create_stack(StackName="phantom", TemplateBody=body)
    made = cfn.create_change_set(
        StackName="phantom", ChangeSetName="again", TemplateBody=body, IncludeNestedStacks=True
    )
    root = _rows(cfn, made["Id"])
    labelled = _rows(cfn, root["Consumer"]["ChangeSetId"])["Labelled"]
    assert (labelled["Action"], labelled["Replacement"]) == ("Modify", "False")
    ((detail),) = labelled["Details"]
    assert detail["Target"]["RequiresRecreation"] == "Never"
    assert (detail["ChangeSource"], detail["Evaluation"], detail["CausingEntity"]) == (
        "ParameterReference",
        "Dynamic",
        "SourceName",
    )


def test_without_nested_change_sets_the_root_row_is_only_automatic(local_aws):
    """ "The same changeset creates fine when --include-nested-stacks option is disabled.\""""
    cfn = local_aws.client("cloudformation")
    cfn.create_stack(StackName="phantom", TemplateBody=_root(local_aws))
    made = cfn.create_change_set(
        StackName="phantom", ChangeSetName="flat", TemplateBody=_root(local_aws)
    )
    root = _rows(cfn, made["Id"])
    assert "ChangeSetId" not in root["Consumer"]
    assert [d["ChangeSource"] for d in root["Consumer"]["Details"]] == ["Automatic"]


def test_executing_it_replaces_nothing(local_aws):
    """The rows are phantoms: the execution reads the output's real value, which did not
    change (the source stack changes in place), so no topic is replaced."""
    cfn, change_set = _deployed(local_aws, label="two")
    consumer = cfn.describe_stack_resource(StackName="phantom", LogicalResourceId="Consumer")
    before = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(
            StackName=consumer["StackResourceDetail"]["PhysicalResourceId"]
        )["StackResources"]
    }
    cfn.execute_change_set(ChangeSetName=change_set)
    assert cfn.describe_stacks(StackName="phantom")["Stacks"][0]["StackStatus"] == (
        "UPDATE_COMPLETE"
    )
    after = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(
            StackName=consumer["StackResourceDetail"]["PhysicalResourceId"]
        )["StackResources"]
    }
    assert after == before
    assert before["Named"].endswith(":phantom-source-copy")
