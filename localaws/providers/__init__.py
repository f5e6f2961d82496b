"""Resource providers: one per resource type this environment uses, each acting through the
service APIs the way CloudFormation's resource handler for that type does on AWS (a nested
stack's, through the engine's stack operations). `install()` registers them with the engine
(cfn/registry.py).

moto's own CloudFormation models skip or half-apply these types (SPEC §4): alarms, SNS
subscriptions, topic and bucket policies, metric filters are skipped silently; table PITR, TTL and
SSE, bucket versioning and public access block are ignored; a KeyPolicy object breaks
DescribeKey; nothing updates in place; IAM roles survive stack deletion.
"""

from __future__ import annotations

from localaws.providers.base import Provider


def providers() -> list[Provider]:
    """Every supported type's provider (types not listed fail like an unknown type)."""
    from localaws.providers import cloudformation, cloudwatch, dynamodb, iam, kms, logs, s3, sns

    modules = (kms, dynamodb, s3, cloudwatch, sns, logs, iam, cloudformation)
    return [provider for module in modules for provider in module.PROVIDERS]
