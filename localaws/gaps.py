"""Where each gap of SPEC §4 (moto 5.2.5) is closed, and the canary test that notices when moto
closes it upstream (tests/localaws/test_gaps.py). When a canary fails, delete or shrink the
unit it names."""

from __future__ import annotations

GAPS: dict[str, tuple[str, ...]] = {
    "GetAtt <NestedStack>.Outputs.X; Outputs of change-set-created stacks": (
        "cfn/nested.py",
        "cfn/stacks.py",
        "cfn/state.py",
    ),
    "nested stacks update in place; table changes applied (GSI, PITR, TTL, SSE, tags)": (
        "cfn/nested.py",
        "cfn/updating.py",
        "resources/dynamodb.py",
        "resources/cloudwatch.py",
    ),
    "KeyPolicy given as an object": ("resources/kms.py",),
    "PITR/TTL/SSE, S3 versioning/public access block/policy, alarms, subscriptions": (
        "resources/dynamodb.py",
        "resources/s3.py",
        "resources/cloudwatch.py",
        "resources/sns.py",
        "resources/logs.py",
        "services/sns.py",
    ),
    "change sets: Replacement/Scope/Details, nested change sets, no-op FAILED": (
        "cfn/changesets.py",
        "cfn/change_rows.py",
        "cfn/schema.py",
    ),
    "delete removes what the stack made (IAM included); Retain; deletion protection": (
        "cfn/deletion.py",
        "resources/iam.py",
    ),
    "drift detection": ("cfn/drift.py",),
    "TemplateURL http://127.0.0.1:port/bucket/key": ("cfn/templates.py",),
    # not in SPEC §4, found on the way
    "bucket policy conditions (TLS-only policy denied every request)": ("services/s3.py",),
    "stack policies enforced on updates": ("cfn/stack_policy.py",),
    # moto is laxer than AWS here: it would let a deploy do what AWS refuses
    "UpdateTimeToLive: no attribute switch while on, one change per table per hour": (
        "services/dynamodb.py",
    ),
    "CloudWatch dashboards are account-global, not per region": ("services/cloudwatch.py",),
    "CloudWatch Logs AssociateKmsKey/DisassociateKmsKey (not implemented)": ("services/logs.py",),
    "SecureString under a disabled or pending-deletion key cannot be decrypted": (
        "services/ssm.py",
    ),
    "pre-deployment validation at CreateChangeSet; DescribeEvents for a change set": (
        "cfn/validation.py",
        "cfn/changesets.py",
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
