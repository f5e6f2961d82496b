"""One provider per resource type this environment uses, each acting through the service APIs
the way CloudFormation's resource handler for that type does on AWS.

moto's own CloudFormation models skip or half-apply these types (SPEC §4): alarms, SNS
subscriptions, topic and bucket policies, metric filters are skipped silently; table PITR, TTL and
SSE, bucket versioning and public access block are ignored; a KeyPolicy object breaks
DescribeKey; nothing updates in place; IAM roles survive stack deletion.
"""

from __future__ import annotations

from localaws.resources.base import Provider


def providers() -> dict[str, Provider]:
    """Every supported type -> its provider (types not listed fail like an unknown type)."""
    from localaws.resources import cloudformation, cloudwatch, dynamodb, iam, kms, logs, s3, sns

    found: dict[str, Provider] = {}
    for module in (kms, dynamodb, s3, cloudwatch, sns, logs, iam, cloudformation):
        for provider in module.PROVIDERS:
            found[provider.type_name] = provider
    return found
