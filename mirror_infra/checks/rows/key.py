"""The environment's KMS key: enabled, rotating, aliased, no * principal, used via DynamoDB
and SSM."""

from __future__ import annotations

import json

from mirror_infra.checks.base import Check, Environment, Evidence
from mirror_infra.checks.policies import open_statements, via_services

ID = "key"
DESCRIPTION = "KMS key enabled, rotating, aliased, policy closed"


def key_row(env: Environment) -> Check:
    """The environment's key: enabled, customer managed, rotating, with its alias."""
    kms = env.client("kms")
    meta = kms.describe_key(KeyId=env.key_arn)["KeyMetadata"]
    ev = Evidence()
    ev.expect(meta["KeyState"] == "Enabled", meta["KeyState"], "Enabled")
    ev.expect(meta.get("KeyManager") == "CUSTOMER", f"{meta.get('KeyManager')} managed", "CUSTOMER")
    rotation = kms.get_key_rotation_status(KeyId=env.key_arn)["KeyRotationEnabled"]
    ev.expect(rotation, f"rotation {'ON' if rotation else 'OFF'}", "rotation ON")
    alias = env.dep.names.key_alias
    aliases = env.keys.aliases()
    ev.expect(alias in aliases, f"alias {', '.join(aliases) or 'none'}", f"alias {alias}")
    policy = json.loads(kms.get_key_policy(KeyId=env.key_arn, PolicyName="default")["Policy"])
    open_to = open_statements(policy)
    ev.expect(
        not open_to,
        "policy: no * principal" if not open_to else f"policy: * principal in {', '.join(open_to)}",
        "policy without a * principal",
    )
    via = via_services(policy)
    ev.expect(
        {"dynamodb", "ssm"} <= via,
        f"used via {', '.join(sorted(via)) or 'no service'}",
        "used via dynamodb and ssm",
    )
    return ev.check("KMS key")
