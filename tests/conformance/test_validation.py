"""Pre-deployment validation at CreateChangeSet, as
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/validate-stack-deployments.html
describes it: "FAIL mode prevents change set execution when validation detects errors ...
This applies to property syntax errors and resource name conflicts"; "WARN mode allows
successful change set creation despite validation failures ... This applies to constraint
violations like S3 bucket emptiness". Results come from DescribeEvents for the change set
(OperationEvent: ValidationStatus, ValidationFailureMode, ValidationPath,
https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_OperationEvent.html).

The page's example output of a property syntax failure shows its ValidationName,
`PROPERTY_VALIDATION`; the page names no value for the other checks and fixes no reason text,
so those are not asserted."""

from __future__ import annotations

import secrets

from tests.conformance.conftest import CAPS
from tests.conformance.templates import log_group, template


def _change_set(target, stack: str, body: str, kind: str) -> dict:
    made = target.client("cloudformation").create_change_set(
        StackName=stack,
        ChangeSetName="validated",
        ChangeSetType=kind,
        TemplateBody=body,
        Capabilities=CAPS,
    )
    return target.change_set(made["Id"])


def _validation_events(target, change_set_id: str) -> list[dict]:
    cfn = target.client("cloudformation")
    events = cfn.describe_events(ChangeSetName=change_set_id)["OperationEvents"]
    return [e for e in events if e.get("ValidationStatus")]


def _owned_log_group(target, stacks) -> str:
    """A log group name another (throwaway) stack already holds."""
    group = f"/mi-conf/{secrets.token_hex(4)}"
    target.create(stacks.name(), template({"Logs": log_group(1, LogGroupName=group)}))
    return group


def test_a_schema_error_fails_the_change_set_with_its_path(target, stacks):
    """Property syntax validation against the resource schema: a table without its required
    KeySchema."""
    name = stacks.name()
    table = {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        },
    }
    described = _change_set(target, name, template({"Table": table}), "CREATE")
    assert described["Status"] == "FAILED"
    assert described["ExecutionStatus"] != "AVAILABLE"
    events = _validation_events(target, described["ChangeSetId"])
    failed = [e for e in events if e["ValidationStatus"] == "FAILED"]
    assert failed
    assert {e["ValidationFailureMode"] for e in failed} == {"FAIL"}
    assert {e["ValidationName"] for e in failed} == {"PROPERTY_VALIDATION"}
    assert all(e["ValidationPath"].startswith("/Resources/Table") for e in failed)


def test_a_name_taken_by_an_existing_resource_fails_the_change_set(target, stacks):
    """Resource name conflict detection with existing resources (FAIL mode)."""
    group = _owned_log_group(target, stacks)
    clash = stacks.name()
    body = template({"Again": log_group(1, LogGroupName=group)})
    described = _change_set(target, clash, body, "CREATE")
    assert described["Status"] == "FAILED"
    failed = _validation_events(target, described["ChangeSetId"])
    assert [e["LogicalResourceId"] for e in failed] == ["Again"]
    assert failed[0]["ValidationFailureMode"] == "FAIL"


def test_removing_a_bucket_that_holds_objects_warns(target, stacks):
    """S3 bucket emptiness validation for deletion (WARN mode: the change set is created)."""
    name = stacks.name()
    cfn = target.client("cloudformation")
    with_bucket = template(
        {"Bucket": {"Type": "AWS::S3::Bucket"}, "Logs": log_group(1)},
        {"Bucket": {"Value": {"Ref": "Bucket"}}},
    )
    cfn.create_stack(StackName=name, TemplateBody=with_bucket)
    stack = target.settle(name)
    bucket = stack["Outputs"][0]["OutputValue"]
    s3 = target.client("s3")
    s3.put_object(Bucket=bucket, Key="kept", Body=b"x")
    try:
        described = _change_set(target, name, template({"Logs": log_group(1)}), "UPDATE")
        assert described["Status"] == "CREATE_COMPLETE"
        assert described["ExecutionStatus"] == "AVAILABLE"
        events = _validation_events(target, described["ChangeSetId"])
        assert [(e["LogicalResourceId"], e["ValidationFailureMode"]) for e in events] == [
            ("Bucket", "WARN")
        ]
    finally:
        s3.delete_object(Bucket=bucket, Key="kept")  # the stack's bucket can go again


def test_a_name_taken_inside_a_new_nested_stack_fails_the_root_change_set(
    target, stacks, artifacts
):
    """The same check for a resource of a nested stack the change set creates (a create of the
    whole environment from its root, as 'plan' makes it): the deployment cannot succeed, so the
    change set fails before it can run."""
    from tests.conformance.templates import nested

    group = _owned_log_group(target, stacks)
    cfn = target.client("cloudformation")
    child = artifacts.put(template({"Again": log_group(1, LogGroupName=group)}))
    made = cfn.create_change_set(
        StackName=stacks.name(),
        ChangeSetName="validated",
        ChangeSetType="CREATE",
        TemplateBody=template({"Child": nested(child)}),
        Capabilities=CAPS,
        IncludeNestedStacks=True,
    )
    described = target.change_set(made["Id"])
    assert described["Status"] == "FAILED"
    assert described["ExecutionStatus"] != "AVAILABLE"
