"""The regional artifacts bucket that nested templates are uploaded to (`mirror-infra bootstrap`).

Not part of the Phase Mirror environment: the deploy tool's own small stack, one per region.
"""

from __future__ import annotations

from troposphere import Output, Ref, Sub, Template, s3

from mirror_infra.names import ACCOUNT_VAR, REGION_VAR, Names
from templates_src.storage import block_all_public_access, tls_only_policy

STACK_NAME = "mirror-infra-bootstrap"
OBJECT_DAYS = 365  # templates older than a year are no longer referenced by any stack
NONCURRENT_DAYS = 30


def template() -> Template:
    t = Template(Description="mirror-infra artifacts bucket for nested templates (generated)")
    t.set_version("2010-09-09")
    bucket = t.add_resource(
        s3.Bucket(
            "ArtifactsBucket",
            BucketName=Sub(Names.artifacts_bucket(ACCOUNT_VAR, REGION_VAR)),
            BucketEncryption=s3.BucketEncryption(
                ServerSideEncryptionConfiguration=[
                    s3.ServerSideEncryptionRule(
                        ServerSideEncryptionByDefault=s3.ServerSideEncryptionByDefault(
                            SSEAlgorithm="AES256"
                        )
                    )
                ]
            ),
            VersioningConfiguration=s3.VersioningConfiguration(Status="Enabled"),
            PublicAccessBlockConfiguration=block_all_public_access(),
            LifecycleConfiguration=s3.LifecycleConfiguration(
                Rules=[
                    s3.LifecycleRule(
                        Id="ExpireOldTemplates",
                        Status="Enabled",
                        ExpirationInDays=OBJECT_DAYS,
                        NoncurrentVersionExpiration=s3.NoncurrentVersionExpiration(
                            NoncurrentDays=NONCURRENT_DAYS
                        ),
                    )
                ]
            ),
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
        )
    )
    t.add_resource(tls_only_policy("ArtifactsBucketPolicy", bucket))
    t.add_output(Output("BucketName", Value=Ref(bucket)))
    return t
