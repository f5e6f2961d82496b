"""What destroy and plan rely on about a KMS key that goes with its stack (mirror_infra/deploy/
destroy.py, finishing.refuse_unusable_nonce): CloudFormation schedules it for deletion, its
`KeyState` says so (DescribeKey), and a SecureString encrypted under it can no longer be read
with decryption, as the application reads its nonce (GetParametersByPath, WithDecryption).

Runs on a real account too: the stack is the suite's own (`mi-conf-…`), its key is scheduled
for deletion with the shortest window (7 days), and the parameter it writes is under the
suite's own prefix and deleted at the end."""

from __future__ import annotations

import contextlib
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.conformance.conftest import PREFIX
from tests.conformance.templates import template


def _key(account: str, partition: str) -> dict:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministers",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    return {
        "Type": "AWS::KMS::Key",
        "DeletionPolicy": "Delete",
        "Properties": {"KeyPolicy": policy, "PendingWindowInDays": 7},
    }


def test_a_key_deleted_with_its_stack_is_pending_deletion_and_decrypts_nothing(target, stacks):
    """AWS::KMS::Key: "When you remove a KMS key from a CloudFormation stack, AWS KMS
    schedules the KMS key for deletion and starts the mandatory waiting period"
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-kms-key.html);
    its KeyState is then PendingDeletion, in which "the KMS key cannot be used in
    cryptographic operations" (https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html).
    """
    identity = target.client("sts").get_caller_identity()
    partition = identity["Arn"].split(":")[1]
    cfn, kms, ssm = (target.client(s) for s in ("cloudformation", "kms", "ssm"))
    name = stacks.name()
    cfn.create_stack(
        StackName=name,
        TemplateBody=template(
            {"Key": _key(identity["Account"], partition)},
            {"KeyId": {"Value": {"Ref": "Key"}}},
        ),
    )
    target.settle(name)
    key = cfn.describe_stack_resource(StackName=name, LogicalResourceId="Key")[
        "StackResourceDetail"
    ]["PhysicalResourceId"]
    path = f"/{PREFIX}{uuid.uuid4().hex[:8]}"
    parameter = f"{path}/redaction_nonce_v1"
    ssm.put_parameter(Name=parameter, Value="ab" * 32, Type="SecureString", KeyId=key)
    try:
        assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Enabled"
        cfn.delete_stack(StackName=name)
        with contextlib.suppress(ClientError):  # AWS no longer describes a deleted stack by name
            assert target.settle(name)["StackStatus"] == "DELETE_COMPLETE"
        assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "PendingDeletion"
        with pytest.raises(ClientError) as unreadable:
            ssm.get_parameters_by_path(Path=path, WithDecryption=True)
        # API_GetParametersByPath's Errors: InvalidKeyId, "the query key ID isn't valid"
        assert unreadable.value.response["Error"]["Code"] == "InvalidKeyId", unreadable.value
        # read without decryption, the version is still there: destroy and plan see it
        found = ssm.get_parameters_by_path(Path=path)["Parameters"]
        assert [p["Name"] for p in found] == [parameter]
    finally:
        ssm.delete_parameter(Name=parameter)  # this test wrote it
