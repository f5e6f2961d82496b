"""Auto-import (CreateChangeSet ImportExistingResources) as
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/import-resources-automatically.html
describes it: "The resource must have a static custom name defined in your template. Dynamic
names (using !Ref or other functions) are not currently supported"; "a DeletionPolicy of
Retain or RetainExceptOnCreate"; "must not already belong to another CloudFormation stack";
"For nested stacks, create the change set from the root stack." The resources are made by the
test itself under throwaway names (the `outside` fixture) and deleted by it afterwards."""

from __future__ import annotations

import pytest

from tests.conformance.conftest import CAPS
from tests.conformance.templates import broken_table, log_group, nested, table, template


def _table(name, policy: str) -> dict:
    return {**table(TableName=name), "DeletionPolicy": policy}


def _change_set(target, stack: str, body: str, kind: str, **extra) -> dict:
    made = target.client("cloudformation").create_change_set(
        StackName=stack,
        ChangeSetName="auto1",
        ChangeSetType=kind,
        TemplateBody=body,
        Capabilities=CAPS,
        ImportExistingResources=True,
        **extra,
    )
    return target.change_set(made["Id"])


def _actions(described: dict) -> dict[str, str]:
    return {
        c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"]["Action"]
        for c in described["Changes"]
    }


@pytest.mark.parametrize("policy", ["Retain", "RetainExceptOnCreate"])
def test_a_statically_named_table_that_exists_is_imported_with_its_items(
    target, outside, stacks, policy
):
    """The change set shows the table as Import (API_ResourceChange: "Import (imports a
    resource)"), ImportExistingResources true; executing it imports the table, whose items
    stay, and creates the rest."""
    table = outside.table()
    name = stacks.name()
    body = template({"Table": _table(table, policy), "Created": log_group(1)})
    described = _change_set(target, name, body, "CREATE")
    assert described["Status"] == "CREATE_COMPLETE", described.get("StatusReason")
    assert described["ImportExistingResources"] is True
    assert _actions(described) == {"Table": "Import", "Created": "Add"}
    cfn = target.client("cloudformation")
    cfn.execute_change_set(ChangeSetName=described["ChangeSetId"])
    assert target.settle(name)["StackStatus"] == "CREATE_COMPLETE"
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    statuses = {(e["LogicalResourceId"], e["ResourceStatus"]) for e in events}
    assert ("Table", "IMPORT_COMPLETE") in statuses
    assert ("Table", "CREATE_COMPLETE") not in statuses
    items = target.client("dynamodb").scan(TableName=table)["Items"]
    assert items == [{"pk": {"S": "kept"}, "n": {"N": "42"}}]


def test_an_existing_resource_without_a_retaining_policy_fails_the_change_set(
    target, outside, stacks
):
    """ "The resource must have a DeletionPolicy of Retain or RetainExceptOnCreate"; the change
    set fails and says which resource (AWS's StatusReason, as the CDK toolkit quotes it:
    "The resources must have the DeletionPolicy attribute set to 'Retain' or
    'RetainExceptOnCreate' in the template for successful import")."""
    table = outside.table()
    name = stacks.name()
    described = _change_set(target, name, template({"Table": _table(table, "Delete")}), "CREATE")
    assert described["Status"] == "FAILED"
    assert "'Retain' or 'RetainExceptOnCreate'" in described["StatusReason"]
    assert "Table" in described["StatusReason"]
    assert target.client("dynamodb").scan(TableName=table)["Count"] == 1


def test_a_dynamic_name_is_not_auto_imported(target, outside, stacks):
    """ "Dynamic names (using !Ref or other functions) are not currently supported": the row
    stays Add, and the name conflict is left to pre-deployment validation, which fails it."""
    group = outside.log_group(retention=3)
    name = stacks.name()
    spec = log_group(1, LogGroupName={"Fn::Sub": group})
    spec["DeletionPolicy"] = "Retain"
    described = _change_set(target, name, template({"Group": spec}), "CREATE")
    assert _actions(described) == {"Group": "Add"}
    assert described["Status"] == "FAILED"


def test_nested_stacks_auto_import_through_the_root_change_set(target, outside, stacks, artifacts):
    """ "For nested stacks, create the change set from the root stack": with
    IncludeNestedStacks the nested change set shows the import, and executing the root
    imports it into the nested stack."""
    group = outside.log_group(retention=3)
    first = artifacts.put(template({"Original": log_group(1)}))
    name = stacks.name()
    cfn = target.client("cloudformation")
    cfn.create_stack(
        StackName=name, TemplateBody=template({"Child": nested(first)}), Capabilities=CAPS
    )
    assert target.settle(name)["StackStatus"] == "CREATE_COMPLETE"
    imported = log_group(1, LogGroupName=group)
    imported["DeletionPolicy"] = "Retain"
    second = artifacts.put(template({"Original": log_group(1), "Imported": imported}))
    root = _change_set(
        target, name, template({"Child": nested(second)}), "UPDATE", IncludeNestedStacks=True
    )
    assert root["Status"] == "CREATE_COMPLETE", root.get("StatusReason")
    (child_row,) = [c["ResourceChange"] for c in root["Changes"]]
    child = target.change_set(child_row["ChangeSetId"])
    assert child["ImportExistingResources"] is True
    assert _actions(child) == {"Imported": "Import"}
    cfn.execute_change_set(ChangeSetName=root["ChangeSetId"])
    assert target.settle(name)["StackStatus"] == "UPDATE_COMPLETE"
    child_id = child_row["PhysicalResourceId"]
    resources = cfn.describe_stack_resources(StackName=child_id)["StackResources"]
    assert {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}["Imported"] == (
        group
    )
    groups = target.client("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert groups[0]["retentionInDays"] == 3  # imported, not changed


@pytest.mark.parametrize("policy", ["Retain", "RetainExceptOnCreate"])
def test_a_failed_create_never_deletes_what_it_imported(target, outside, stacks, policy):
    """The operation did not create the imported table, so rolling it back must not delete
    it — even with ExecuteChangeSet RetainExceptOnCreate, which deletes what the operation
    created ("If the stack operation that created the resource is rolled back, CloudFormation
    deletes the resource", aws-attribute-deletionpolicy.html). A table DynamoDB refuses
    fails the create after the import."""
    table = outside.table()
    name = stacks.name()
    body = template({"Table": _table(table, policy), "Broken": broken_table(after="Table")})
    described = _change_set(target, name, body, "CREATE")
    assert _actions(described)["Table"] == "Import"
    target.client("cloudformation").execute_change_set(
        ChangeSetName=described["ChangeSetId"], RetainExceptOnCreate=True
    )
    assert target.settle(name)["StackStatus"] == "ROLLBACK_COMPLETE"
    items = target.client("dynamodb").scan(TableName=table)["Items"]
    assert items == [{"pk": {"S": "kept"}, "n": {"N": "42"}}]


def test_a_failed_update_never_deletes_what_it_imported(target, outside, stacks):
    """An update's rollback deletes the resources the update created; an imported one is
    not among them (UPDATE_ROLLBACK_COMPLETE, the log group still there)."""
    group = outside.log_group(retention=3)
    name = stacks.name()
    cfn = target.client("cloudformation")
    cfn.create_stack(StackName=name, TemplateBody=template({"Original": log_group(1)}))
    assert target.settle(name)["StackStatus"] == "CREATE_COMPLETE"
    imported = log_group(1, LogGroupName=group)
    imported["DeletionPolicy"] = "Retain"
    body = template(
        {"Original": log_group(1), "Imported": imported, "Broken": broken_table("Imported")}
    )
    described = _change_set(target, name, body, "UPDATE")
    assert _actions(described)["Imported"] == "Import"
    cfn.execute_change_set(ChangeSetName=described["ChangeSetId"])
    assert target.settle(name)["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    groups = target.client("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert [g["logGroupName"] for g in groups] == [group]
