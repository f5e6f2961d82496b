"""`DeletionPolicy: RetainExceptOnCreate` on a resource of a nested stack, as production's
first create uses it (mirror_infra/deploy/first_create.py): the root's failed create deletes
the resource, and a later deletion of the root keeps it.

The page: "RetainExceptOnCreate behaves like Retain for stack operations, except for the stack
operation that initially created the resource. If the stack operation that created the resource
is rolled back, CloudFormation deletes the resource. For all other stack operations, such as
stack deletion, CloudFormation retains the resource and its contents."
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html).
That a nested stack's resource counts as created by its root's create operation (the nested
stack is made by it, and "updates to nested stacks are run from the parent stack",
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudformation-stack.html)
is the reading the tool takes; these tests settle it on an account."""

from __future__ import annotations

import contextlib

from botocore.exceptions import ClientError

from tests.conformance.conftest import CAPS
from tests.conformance.templates import broken_table, nested, template, topic


def _topics(target, name: str) -> list[str]:
    pages = target.client("sns").get_paginator("list_topics").paginate()
    return [
        t["TopicArn"]
        for page in pages
        for t in page["Topics"]
        if t["TopicArn"].rsplit(":", 1)[-1] == name
    ]


def _child(artifacts, name: str) -> str:
    kept = topic(DeletionPolicy="RetainExceptOnCreate")
    kept["Properties"]["TopicName"] = name
    return artifacts.put(template({"Kept": kept}))


def test_a_failed_root_create_deletes_a_nested_retain_except_on_create_resource(
    target, stacks, artifacts
):
    root = stacks.name()
    child = _child(artifacts, f"{root}-kept")
    body = template({"Child": nested(child), "Table": broken_table(after="Child")})
    # no RetainExceptOnCreate flag on the operation: the template attribute alone decides
    target.client("cloudformation").create_stack(
        StackName=root, TemplateBody=body, Capabilities=CAPS
    )
    assert target.settle(root)["StackStatus"] == "ROLLBACK_COMPLETE"
    assert _topics(target, f"{root}-kept") == []


def test_deleting_the_root_keeps_a_nested_retain_except_on_create_resource(
    target, stacks, artifacts
):
    root = stacks.name()
    child = _child(artifacts, f"{root}-kept")
    target.create(root, template({"Child": nested(child)}))
    cfn = target.client("cloudformation")
    cfn.delete_stack(StackName=root)
    with contextlib.suppress(ClientError):  # AWS no longer describes a deleted stack by name
        assert target.settle(root)["StackStatus"] == "DELETE_COMPLETE"
    kept = _topics(target, f"{root}-kept")
    try:
        assert len(kept) == 1
    finally:
        for arn in kept:  # retained: this test made it
            target.client("sns").delete_topic(TopicArn=arn)
