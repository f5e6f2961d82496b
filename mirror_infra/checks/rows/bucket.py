"""The baselines bucket: SSE-KMS with bucket keys, versioning, public access blocked, TLS only."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from mirror_infra.aws.errors import AwsErrorKind, classify
from mirror_infra.checks.base import Check, Environment, Evidence
from mirror_infra.checks.policies import denies_insecure_transport

ID = "bucket"
DESCRIPTION = "Baselines bucket encrypted, versioned, private, TLS only"

_PUBLIC_ACCESS_SETTINGS = (
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
)


def _optional(call: Callable[[], Any]) -> Any:
    """The call's answer, or None when AWS says the configuration does not exist."""
    try:
        return call()
    except ClientError as exc:
        if classify(exc) is AwsErrorKind.NOT_FOUND:
            return None
        raise


def bucket_row(env: Environment) -> Check:
    """The baselines bucket: SSE-KMS with the key and bucket keys, versioned, private, TLS only."""
    s3 = env.client("s3")
    bucket = env.dep.names.baselines_bucket(env.dep.target.account_id, env.region)
    s3.head_bucket(Bucket=bucket)
    ev = Evidence()
    ev.fact(bucket)

    encryption = _optional(lambda: s3.get_bucket_encryption(Bucket=bucket))
    rules = (encryption or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    default = rules[0].get("ApplyServerSideEncryptionByDefault", {}) if rules else {}
    key = default.get("KMSMasterKeyID")
    ev.expect(
        default.get("SSEAlgorithm") == "aws:kms" and env.keys.is_env_key(key),
        f"SSE {default.get('SSEAlgorithm', 'none')} {env.keys.shown(key) if key else ''}".strip(),
        f"SSE aws:kms {env.keys.shown(env.key_arn)}",
    )
    bucket_key = bool(rules and rules[0].get("BucketKeyEnabled"))
    ev.expect(bucket_key, f"bucket key {'ON' if bucket_key else 'OFF'}", "bucket key ON")

    versioning = s3.get_bucket_versioning(Bucket=bucket).get("Status", "Disabled")
    ev.expect(versioning == "Enabled", f"versioning {versioning}", "versioning Enabled")

    block = _optional(lambda: s3.get_public_access_block(Bucket=bucket))
    settings = (block or {}).get("PublicAccessBlockConfiguration", {})
    blocked = [s for s in _PUBLIC_ACCESS_SETTINGS if settings.get(s)]
    ev.expect(
        len(blocked) == len(_PUBLIC_ACCESS_SETTINGS),
        f"public access blocked {len(blocked)}/{len(_PUBLIC_ACCESS_SETTINGS)}",
        f"public access blocked {len(_PUBLIC_ACCESS_SETTINGS)}/{len(_PUBLIC_ACCESS_SETTINGS)}",
    )

    policy = _optional(lambda: s3.get_bucket_policy(Bucket=bucket))
    tls_only = policy is not None and denies_insecure_transport(json.loads(policy["Policy"]))
    ev.expect(tls_only, f"TLS-only policy {'yes' if tls_only else 'no'}", "TLS-only policy yes")
    return ev.check("baselines bucket")
