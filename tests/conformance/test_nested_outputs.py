"""A nested stack's parameter fed by another nested stack's output, in a root change set with
nested change sets: what cloudformation-coverage-roadmap issue 759 reports (AWS's own tracker,
open: https://github.com/aws-cloudformation/cloudformation-coverage-roadmap/issues/759; no
documentation page covers it):

    "While using --include-nested-stacks option, when parameters of a nested stack resource
    refers an output from another nested stack resource using Ref! or Fn::GetAtt it does not
    recurse the change detection and worst it shows incorrect information on the nested
    stack. ... although there're no changes to the bastion stack, it shows that there're
    changes and resources will be replaced."

The deployer relies on it both ways: `plan` shows such rows as phantoms (no change) when their
source provably does not change, and applying them replaces nothing. The shape of the rows
(Modify, ChangeSource ParameterReference, Evaluation Dynamic, CausingEntity the parameter) is
how API_ResourceChangeDetail describes a change caused by a parameter whose value is known only
at execution; the tracker shows no JSON, so this test is the one that settles it on an account.
"""

from __future__ import annotations

import json

from tests.conformance.conftest import CAPS
from tests.conformance.templates import fed_by_output

SOURCE = {
    "Parameters": {"Label": {"Type": "String"}},
    "Resources": {
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Ref": "Label"}}}
    },
    "Outputs": {"TopicName": {"Value": {"Fn::GetAtt": ["Topic", "TopicName"]}}},
}
CONSUMER = {
    "Parameters": {"SourceName": {"Type": "String"}},
    "Resources": {
        # AWS::SNS::Topic TopicName: "Update requires: Replacement"
        "Named": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"TopicName": {"Fn::Sub": "${SourceName}-copy"}},
        },
        # AWS::SNS::Topic DisplayName: "Update requires: No interruption"
        "Labelled": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"DisplayName": {"Ref": "SourceName"}},
        },
    },
}


def _rows(target, change_set_id: str) -> dict[str, dict]:
    described = target.change_set(change_set_id)
    return {
        c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"] for c in described["Changes"]
    }


def _physical_ids(cfn, stack: str) -> dict[str, str]:
    return {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(StackName=stack)["StackResources"]
    }


def test_a_parameter_fed_by_another_nested_stacks_output_shows_changes_that_do_not_happen(
    target, stacks, artifacts
):
    source = artifacts.put(json.dumps(SOURCE))
    consumer = artifacts.put(json.dumps(CONSUMER))
    name = stacks.name()
    cfn = target.client("cloudformation")
    target.create(name, fed_by_output(source, consumer, "one"))
    consumer_stack = _physical_ids(cfn, name)["Consumer"]
    before = _physical_ids(cfn, consumer_stack)

    # only the source stack changes, in place (its topic's display name)
    made = cfn.create_change_set(
        StackName=name,
        ChangeSetName="label",
        TemplateBody=fed_by_output(source, consumer, "two"),
        Capabilities=CAPS,
        IncludeNestedStacks=True,
    )
    root = _rows(target, made["Id"])
    rows = _rows(target, root["Consumer"]["ChangeSetId"])
    for logical_id, replacement in (("Named", ("True", "Conditional")), ("Labelled", ("False",))):
        row = rows[logical_id]
        assert row["Action"] == "Modify"
        assert row["Replacement"] in replacement, row
        assert {
            (d["ChangeSource"], d["Evaluation"], d.get("CausingEntity")) for d in row["Details"]
        } == {("ParameterReference", "Dynamic", "SourceName")}, row

    # executing it reads the output's value, which did not change: nothing is replaced
    cfn.execute_change_set(ChangeSetName=made["Id"])
    assert target.settle(name)["StackStatus"] == "UPDATE_COMPLETE"
    assert _physical_ids(cfn, consumer_stack) == before
