"""Resource import (IMPORT change sets with ResourcesToImport) as the AWS CloudFormation
documentation describes it. Every expected value is transcribed from the page cited in its
test's docstring. The resources imported are made by the test itself, outside CloudFormation,
under throwaway names (the `outside` fixture), and deleted by it afterwards."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.conformance import templates
from tests.conformance.templates import log_group, nested, template

IMPORT_PAGE = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resource-import.html"


def _imported_group(name: str, retention: int = 1, policy: str | None = "Retain") -> dict:
    spec = log_group(retention, LogGroupName=name)
    if policy:
        spec["DeletionPolicy"] = policy
    return spec


def _to_import(logical: str, group: str) -> list[dict]:
    return [
        {
            "ResourceType": "AWS::Logs::LogGroup",
            "LogicalResourceId": logical,
            "ResourceIdentifier": {"LogGroupName": group},
        }
    ]


def _import(target, stack: str, body: str, resources: list[dict], **extra) -> dict:
    made = target.client("cloudformation").create_change_set(
        StackName=stack,
        ChangeSetName="import1",
        ChangeSetType="IMPORT",
        TemplateBody=body,
        ResourcesToImport=resources,
        **extra,
    )
    return target.change_set(made["Id"])


def _create(target, stack: str, body: str) -> dict:
    target.client("cloudformation").create_stack(StackName=stack, TemplateBody=body)
    created = target.settle(stack)
    assert created["StackStatus"] == "CREATE_COMPLETE", created
    return created


def _retention(target, group: str) -> int | None:
    found = target.client("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    return next(g.get("retentionInDays") for g in found if g["logGroupName"] == group)


def _events(target, stack: str) -> list[tuple[str, str]]:
    events = target.client("cloudformation").describe_stack_events(StackName=stack)
    return [(e["LogicalResourceId"], e["ResourceStatus"]) for e in reversed(events["StackEvents"])]


def test_import_creates_a_stack_from_an_existing_resource_without_changing_it(
    target, outside, stacks
):
    """ "During an import operation, you create a change set that imports your existing
    resources into a stack or creates a new stack from your existing resources"; status codes
    IMPORT_IN_PROGRESS / IMPORT_COMPLETE; "CloudFormation does not check that the template
    configuration matches the actual configuration" (resource-import.html). ResourceChange
    Action "Import (imports a resource)" (API_ResourceChange.html)."""
    group = outside.log_group(retention=3)
    name = stacks.name()
    body = template({"Imported": _imported_group(group, retention=1)})
    described = _import(target, name, body, _to_import("Imported", group))
    assert described["Status"] == "CREATE_COMPLETE", described.get("StatusReason")
    (change,) = described["Changes"]
    assert change["ResourceChange"]["Action"] == "Import"
    assert change["ResourceChange"]["LogicalResourceId"] == "Imported"
    assert change["ResourceChange"]["PhysicalResourceId"] == group
    target.client("cloudformation").execute_change_set(ChangeSetName=described["ChangeSetId"])
    assert target.settle(name)["StackStatus"] == "IMPORT_COMPLETE"
    events = _events(target, name)
    assert ("Imported", "IMPORT_IN_PROGRESS") in events
    assert ("Imported", "IMPORT_COMPLETE") in events
    assert (name, "IMPORT_COMPLETE") == events[-1]
    assert _retention(target, group) == 3  # the template says 1: imported, not changed
    (resource,) = target.client("cloudformation").describe_stack_resources(StackName=name)[
        "StackResources"
    ]
    assert resource["PhysicalResourceId"] == group


def test_import_into_an_existing_stack_keeps_the_table_and_its_items(target, outside, stacks):
    """ "A template that describes the entire stack, including both the original stack
    resources and the resources you're importing" (resource-import.html); the table and its
    data stay as they are."""
    table = outside.table()
    name = stacks.name()
    before = {"Original": log_group(1)}
    _create(target, name, template(before))
    spec = {**templates.table(TableName=table), "DeletionPolicy": "Retain"}
    resources = [
        {
            "ResourceType": "AWS::DynamoDB::Table",
            "LogicalResourceId": "Table",
            "ResourceIdentifier": {"TableName": table},
        }
    ]
    described = _import(target, name, template({**before, "Table": spec}), resources)
    assert [c["ResourceChange"]["Action"] for c in described["Changes"]] == ["Import"]
    target.client("cloudformation").execute_change_set(ChangeSetName=described["ChangeSetId"])
    assert target.settle(name)["StackStatus"] == "IMPORT_COMPLETE"
    items = target.client("dynamodb").scan(TableName=table)["Items"]
    assert items == [{"pk": {"S": "kept"}, "n": {"N": "42"}}]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        # "Each resource to import must have a DeletionPolicy attribute" (resource-import.html);
        # AWS's text: "The following resources to import [X] must have DeletionPolicy
        # attribute specified in the template."
        ("no-deletion-policy", "must have DeletionPolicy attribute specified in the template"),
        # "Import operations don't allow new resource creations ... or changes to property
        # configurations" (resource-import.html); Outputs: "As part of the import operation,
        # you cannot modify or add [Outputs]"
        ("output-added", "cannot modify or add [Outputs]"),
        ("resource-added", "cannot modify or add [Added]"),
        ("resource-changed", "cannot modify or add [Original]"),
        # an import runs on one stack: a nested stack's resources are imported by an IMPORT
        # change set on that nested stack (resource-import-nested-stacks.html)
        ("include-nested", "IncludeNestedStacks"),
    ],
)
def test_an_import_that_does_more_than_import_is_refused(target, outside, stacks, case, expected):
    """CreateChangeSet refuses it (ValidationError); the stack is left as it was."""
    group = outside.log_group(retention=3)
    name = stacks.name()
    before = {"Original": log_group(1)}
    _create(target, name, template(before))
    resources = {**before, "Imported": _imported_group(group)}
    outputs = None
    extra = {}
    if case == "no-deletion-policy":
        resources["Imported"] = _imported_group(group, policy=None)
    elif case == "output-added":
        outputs = {"Group": {"Value": {"Ref": "Imported"}}}
    elif case == "resource-added":
        resources["Added"] = log_group(1)
    elif case == "resource-changed":
        resources["Original"] = log_group(5)
    elif case == "include-nested":
        extra["IncludeNestedStacks"] = True
    cfn = target.client("cloudformation")
    with pytest.raises(ClientError) as refused:
        cfn.create_change_set(
            StackName=name,
            ChangeSetName="import1",
            ChangeSetType="IMPORT",
            TemplateBody=template(resources, outputs),
            ResourcesToImport=_to_import("Imported", group),
            **extra,
        )
    assert refused.value.response["Error"]["Code"] == "ValidationError"
    assert expected in refused.value.response["Error"]["Message"]
    assert cfn.list_change_sets(StackName=name)["Summaries"] == []
    assert target.settle(name)["StackStatus"] == "CREATE_COMPLETE"
    assert _retention(target, group) == 3


@pytest.mark.parametrize("case", ["missing", "owned"])
def test_a_resource_that_is_missing_or_in_another_stack_is_not_imported(
    target, outside, stacks, case
):
    """ "The resource to import exists"; "The resource to import does not belong to another
    stack in the same Region" (resource-import.html, Resource import validation). Whether AWS
    refuses it at CreateChangeSet or fails the change set it makes, nothing can execute; the
    local AWS fails the change set (Status FAILED, StatusReason naming the resource)."""
    cfn = target.client("cloudformation")
    if case == "missing":
        group = outside.log_group(retention=1)
        target.client("logs").delete_log_group(logGroupName=group)
    else:
        holder = stacks.name()
        _create(target, holder, template({"Held": log_group(1)}))
        group = cfn.describe_stack_resources(StackName=holder)["StackResources"][0][
            "PhysicalResourceId"
        ]
    name = stacks.name()
    body = template({"Imported": _imported_group(group)})
    try:
        described = _import(target, name, body, _to_import("Imported", group))
    except ClientError as refused:
        assert refused.response["Error"]["Code"] == "ValidationError"
        return
    assert described["Status"] == "FAILED"
    assert described["ExecutionStatus"] == "UNAVAILABLE"
    assert group in described["StatusReason"]


def test_a_failed_import_rolls_back_without_touching_the_resources(target, outside, stacks):
    """IMPORT_ROLLBACK_IN_PROGRESS / IMPORT_ROLLBACK_COMPLETE: "Import will roll back to the
    previous template configuration" (resource-import.html). The resource that vanished
    between the change set and its execution fails; the other one is still there after the
    rollback, unchanged."""
    kept, vanished = outside.log_group(retention=3), outside.log_group(retention=3)
    name = stacks.name()
    before = {"Original": log_group(1)}
    _create(target, name, template(before))
    body = template(
        {**before, "Kept": _imported_group(kept), "Vanished": _imported_group(vanished)}
    )
    resources = _to_import("Kept", kept) + _to_import("Vanished", vanished)
    described = _import(target, name, body, resources)
    assert described["Status"] == "CREATE_COMPLETE", described.get("StatusReason")
    target.client("logs").delete_log_group(logGroupName=vanished)
    target.client("cloudformation").execute_change_set(ChangeSetName=described["ChangeSetId"])
    assert target.settle(name)["StackStatus"] == "IMPORT_ROLLBACK_COMPLETE"
    assert ("Vanished", "IMPORT_FAILED") in _events(target, name)
    resources_now = target.client("cloudformation").describe_stack_resources(StackName=name)
    assert [r["LogicalResourceId"] for r in resources_now["StackResources"]] == ["Original"]
    assert _retention(target, kept) == 3
    deployed = target.client("cloudformation").get_template(StackName=name)["TemplateBody"]
    deployed = json.loads(deployed) if isinstance(deployed, str) else deployed
    assert deployed["Resources"] == before


NESTING_PAGE = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resource-import-nested-stacks.html"
PLACEHOLDER = {"Placeholder": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}


def _standalone_and_parent(
    target, stacks, artifacts, child_body: str, tags: dict | None = None
) -> tuple[str, str, str]:
    """A standalone stack holding `child_body` (with stack `tags`), the same template at an S3
    URL, and an existing parent holding nothing but a placeholder: (child stack id, parent
    name, URL)."""
    child = stacks.name()  # named first: deleted after the parent
    target.client("cloudformation").create_stack(
        StackName=child,
        TemplateBody=child_body,
        Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()],
    )
    created = target.settle(child)
    assert created["StackStatus"] == "CREATE_COMPLETE", created
    child_id = created["StackId"]
    parent = stacks.name()
    _create(target, parent, template(PLACEHOLDER))
    return child_id, parent, artifacts.put(child_body)


def _nest(target, parent: str, url: str, child_id: str, **properties) -> dict:
    body = template(
        {**PLACEHOLDER, "Child": {**nested(url, **properties), "DeletionPolicy": "Retain"}}
    )
    resources = [
        {
            "ResourceType": "AWS::CloudFormation::Stack",
            "LogicalResourceId": "Child",
            "ResourceIdentifier": {"StackId": child_id},
        }
    ]
    try:
        return _import(target, parent, body, resources)
    except ClientError as refused:
        return {"Status": "REFUSED", "Error": refused.response["Error"]}


def test_an_existing_stack_is_nested_into_its_parent_by_import(target, stacks, artifacts):
    """ "Use the resource import feature to nest an existing stack within another existing
    stack": the parent's template gets the AWS::CloudFormation::Stack resource "with a Retain
    DeletionPolicy", the resource to import is identified by "StackId"; "On successful
    completion of the import operation (IMPORT_COMPLETE), the stack is successfully nested"
    (resource-import-nested-stacks.html). Once nested, the parent updates it in place, as it
    updates every nested stack ("CloudFormation updates the top-level stack and initiates an
    update to its nested stacks", aws-resource-cloudformation-stack.html)."""
    child_body = template({"Group": log_group(1)})
    child_id, parent, url = _standalone_and_parent(target, stacks, artifacts, child_body)
    described = _nest(target, parent, url, child_id)
    assert described["Status"] == "CREATE_COMPLETE", described
    (change,) = [c["ResourceChange"] for c in described["Changes"]]
    assert (change["Action"], change["LogicalResourceId"]) == ("Import", "Child")
    cfn = target.client("cloudformation")
    cfn.execute_change_set(ChangeSetName=described["ChangeSetId"])
    parent_stack = target.settle(parent)
    assert parent_stack["StackStatus"] == "IMPORT_COMPLETE"
    child = cfn.describe_stacks(StackName=child_id)["Stacks"][0]
    assert child["ParentId"] == parent_stack["StackId"]
    assert child["RootId"] == parent_stack["StackId"]
    held = cfn.describe_stack_resource(StackName=parent, LogicalResourceId="Child")
    assert held["StackResourceDetail"]["PhysicalResourceId"] == child_id
    group = cfn.describe_stack_resource(StackName=child_id, LogicalResourceId="Group")[
        "StackResourceDetail"
    ]["PhysicalResourceId"]
    # an ordinary update from the parent: the nested stack is updated in place
    longer = artifacts.put(template({"Group": log_group(3)}))
    cfn.update_stack(
        StackName=parent,
        TemplateBody=template(
            {**PLACEHOLDER, "Child": {**nested(longer), "DeletionPolicy": "Retain"}}
        ),
    )
    assert target.settle(parent)["StackStatus"] == "UPDATE_COMPLETE"
    assert target.settle(child_id)["StackStatus"] == "UPDATE_COMPLETE"
    assert _retention(target, group) == 3


@pytest.mark.parametrize("case", ["template differs", "tags differ", "has children"])
def test_nesting_is_refused_when_the_stack_does_not_match_or_has_children(
    target, stacks, artifacts, case
):
    """ "The nested AWS::CloudFormation::Stack definition in the parent stack template matches
    the actual nested stack's template"; "The tags for the nested AWS::CloudFormation::Stack
    definition in the parent stack template match the tags for the actual nested stack
    resource" (here the stack has a tag the definition does not give); "you cannot import a
    stack into a child stack or import a stack that has children"
    (resource-import-nested-stacks.html). Whether AWS refuses
    at CreateChangeSet or fails the change set (or its execution) is not on the page: any of
    them, as long as the stack is not nested."""
    child_body = template({"Group": log_group(1)})
    if case == "has children":
        child_body = template({"Inner": nested(artifacts.put(template({"Group": log_group(1)})))})
    tags = {"team": "conformance"} if case == "tags differ" else None
    child_id, parent, url = _standalone_and_parent(target, stacks, artifacts, child_body, tags)
    if case == "template differs":
        url = artifacts.put(template({"Group": log_group(5)}))
    described = _nest(target, parent, url, child_id)
    cfn = target.client("cloudformation")
    if described["Status"] == "CREATE_COMPLETE":
        cfn.execute_change_set(ChangeSetName=described["ChangeSetId"])
        assert target.settle(parent)["StackStatus"] == "IMPORT_ROLLBACK_COMPLETE"
    else:
        assert described["Status"] in ("REFUSED", "FAILED"), described
    assert "ParentId" not in cfn.describe_stacks(StackName=child_id)["Stacks"][0]
