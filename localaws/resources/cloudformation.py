"""AWS::CloudFormation::WaitConditionHandle: a resource that holds nothing; templates use it as a
placeholder (a template needs at least one resource). Ref gives a presigned URL
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudformation-waitconditionhandle.html);
it takes no properties and supports no update."""

from __future__ import annotations

import uuid

from localaws.resources.base import Created, Ctx, Provider


class WaitConditionHandleProvider(Provider):
    type_name = "AWS::CloudFormation::WaitConditionHandle"
    drift_supported = False

    def create(self, ctx: Ctx, props: dict) -> Created:
        region = ctx.region
        return Created(
            f"https://cloudformation-waitcondition-{region}.s3.amazonaws.com/"
            f"arn%3Aaws%3Acloudformation%3A{region}%3A{uuid.uuid4()}"
        )

    def update(self, ctx: Ctx, physical_id: str, old: dict, new: dict) -> Created:
        return Created(physical_id)

    def delete(self, ctx: Ctx, physical_id: str, props: dict) -> None:
        return None

    def read(self, ctx: Ctx, physical_id: str, props: dict) -> dict:
        return {}


PROVIDERS = [WaitConditionHandleProvider()]
