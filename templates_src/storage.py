"""The baselines bucket: SSE-KMS with bucket keys, versioned, private, TLS only."""

from __future__ import annotations

from awacs import s3 as as3
from awacs.aws import Bool, Condition, Deny, PolicyDocument, Principal, Statement
from troposphere import GetAtt, Ref, Sub, Template, s3

from mirror_infra.config import EnvConfig
from mirror_infra.names import ACCOUNT_VAR, REGION_VAR
from templates_src.common import (
    checkov_skip,
    key_arn_parameter,
    new_template,
    output,
    protect,
    tags,
)

NONCURRENT_VERSION_DAYS = 90


def deny_insecure_transport(bucket_arn: object) -> Statement:
    """Deny every request that does not use TLS, on the bucket and its objects."""
    return Statement(
        Sid="DenyInsecureTransport",
        Effect=Deny,
        Principal=Principal("*"),
        Action=[as3.Action("*")],
        Resource=[bucket_arn, Sub("${Arn}/*", Arn=bucket_arn)],
        Condition=Condition(Bool({"aws:SecureTransport": "false"})),
    )


def tls_only_policy(logical_id: str, bucket: s3.Bucket) -> s3.BucketPolicy:
    """The bucket's policy: nothing but TLS requests."""
    return s3.BucketPolicy(
        logical_id,
        Bucket=Ref(bucket),
        PolicyDocument=PolicyDocument(
            Version="2012-10-17",
            Statement=[deny_insecure_transport(GetAtt(bucket, "Arn"))],
        ),
    )


def block_all_public_access() -> s3.PublicAccessBlockConfiguration:
    return s3.PublicAccessBlockConfiguration(
        BlockPublicAcls=True,
        BlockPublicPolicy=True,
        IgnorePublicAcls=True,
        RestrictPublicBuckets=True,
    )


def private_encrypted_bucket(
    cfg: EnvConfig, logical_id: str, name: object, key_arn: object, **extra: object
) -> s3.Bucket:
    """A bucket with the secure defaults: SSE-KMS + bucket key, versioning, no public access."""
    return s3.Bucket(
        logical_id,
        BucketName=name,
        BucketEncryption=s3.BucketEncryption(
            ServerSideEncryptionConfiguration=[
                s3.ServerSideEncryptionRule(
                    BucketKeyEnabled=True,
                    ServerSideEncryptionByDefault=s3.ServerSideEncryptionByDefault(
                        SSEAlgorithm="aws:kms", KMSMasterKeyID=key_arn
                    ),
                )
            ]
        ),
        VersioningConfiguration=s3.VersioningConfiguration(Status="Enabled"),
        PublicAccessBlockConfiguration=block_all_public_access(),
        OwnershipControls=s3.OwnershipControls(
            Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
        ),
        Tags=tags(cfg),
        **extra,
    )


def baselines_bucket_name(cfg: EnvConfig) -> str | Sub:
    """The baselines bucket's name: the one params adopt, else SPEC §2's name for this stack's
    account and region."""
    return cfg.baselines_bucket or Sub(cfg.names.baselines_bucket(ACCOUNT_VAR, REGION_VAR))


def template(cfg: EnvConfig) -> Template:
    t = new_template(cfg, "baselines bucket")
    key_arn = key_arn_parameter(t)
    bucket = protect(
        cfg,
        private_encrypted_bucket(
            cfg,
            "BaselinesBucket",
            baselines_bucket_name(cfg),
            Ref(key_arn),
            LifecycleConfiguration=s3.LifecycleConfiguration(
                Rules=[
                    s3.LifecycleRule(
                        Id="ExpireOldBaselineVersions",
                        Status="Enabled",
                        NoncurrentVersionExpiration=s3.NoncurrentVersionExpiration(
                            NoncurrentDays=NONCURRENT_VERSION_DAYS
                        ),
                        AbortIncompleteMultipartUpload=s3.AbortIncompleteMultipartUpload(
                            DaysAfterInitiation=7
                        ),
                    )
                ]
            ),
        ),
    )
    checkov_skip(
        bucket,
        CKV_AWS_18="Access logging needs a second log bucket per region; the application is the "
        "only writer and CloudTrail data events cover audit.",
    )
    t.add_resource(bucket)
    t.add_resource(tls_only_policy("BaselinesBucketPolicy", bucket))
    output(t, "BucketName", Ref(bucket), "Name of the baselines bucket")
    output(t, "BucketArn", GetAtt(bucket, "Arn"), "ARN of the baselines bucket")
    return t
