"""Where each gap of SPEC §4 (moto 5.2.5) is closed, and the canary test that notices when moto
closes it upstream (tests/localaws/test_gaps.py). When a canary fails, delete or shrink the
unit it names."""

from __future__ import annotations

GAPS: dict[str, tuple[str, ...]] = {
    "GetAtt <NestedStack>.Outputs.X; Outputs of change-set-created stacks": (
        "providers/cloudformation.py",
        "cfn/stacks.py",
    ),
    "nested stacks update in place; table changes applied (GSI, PITR, TTL, SSE, tags)": (
        "providers/cloudformation.py",
        "cfn/operations/update.py",
        "providers/dynamodb.py",
        "providers/cloudwatch.py",
    ),
    "KeyPolicy given as an object": ("providers/kms.py",),
    "PITR/TTL/SSE, S3 versioning/public access block/policy, alarms, subscriptions": (
        "providers/dynamodb.py",
        "providers/s3.py",
        "providers/cloudwatch.py",
        "providers/sns.py",
        "providers/logs.py",
        "moto_fixes/sns.py",
    ),
    "change sets: Replacement/Scope/Details, nested change sets, no-op FAILED": (
        "cfn/change_set_computation.py",
        "cfn/change_set_records.py",
        "cfn/schema.py",
    ),
    "delete removes what the stack made (IAM included); Retain; deletion protection": (
        "cfn/operations/delete.py",
        "providers/iam.py",
    ),
    "drift detection": ("cfn/drift.py",),
    "TemplateURL http://127.0.0.1:port/bucket/key": ("cfn/templates.py",),
    # not in SPEC §4, found on the way
    "bucket policy conditions (TLS-only policy denied every request)": ("moto_fixes/s3.py",),
    "stack policies enforced on updates": ("cfn/stack_policy.py",),
    # moto is laxer than AWS here: it would let a deploy do what AWS refuses
    "UpdateTimeToLive: no attribute switch while on, one change per table per hour": (
        "moto_fixes/dynamodb.py",
    ),
    "CloudWatch dashboards are account-global, not per region": ("moto_fixes/cloudwatch.py",),
    "CloudWatch Logs AssociateKmsKey/DisassociateKmsKey (not implemented)": ("moto_fixes/logs.py",),
    "IAM AddClientIDToOpenIDConnectProvider, RemoveClientIDFromOpenIDConnectProvider": (
        "moto_fixes/iam.py",
    ),
    "SecureString under a disabled or pending-deletion key cannot be decrypted": (
        "moto_fixes/ssm.py",
    ),
    "pre-deployment validation at CreateChangeSet; DescribeEvents for a change set": (
        "cfn/validation.py",
        "cfn/change_set_computation.py",
    ),
    # issue 11: AWS's timing and failures, on demand
    "operations in the background at AWS's pace; CancelUpdateStack; drift in progress": (
        "pacing.py",
        "cfn/api/",
        "cfn/waves.py",
        "cfn/drift.py",
    ),
    "fault switch: Throttling for a share of calls, provisioning failures by logical id": (
        "pacing.py",
        "server.py",
    ),
}
