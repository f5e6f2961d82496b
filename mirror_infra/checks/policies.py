"""Predicates on IAM-style policy documents (key policies, bucket policies, trust policies),
as the verify rows read them back from AWS."""

from __future__ import annotations

from typing import Any


def open_statements(policy: dict) -> list[str]:
    """Sids of Allow statements whose principal is anyone ("*")."""
    found = []
    for i, statement in enumerate(as_list(policy.get("Statement", []))):
        principal = statement.get("Principal")
        values = (
            [principal]
            if isinstance(principal, str)
            else [v for vs in (principal or {}).values() for v in as_list(vs)]
        )
        if statement.get("Effect") == "Allow" and "*" in values:
            found.append(statement.get("Sid") or f"statement {i + 1}")
    return found


def via_services(policy: dict) -> set[str]:
    """The services named by the policy's kms:ViaService conditions ("dynamodb", "ssm", ...)."""
    services = set()
    for statement in as_list(policy.get("Statement", [])):
        for condition in (statement.get("Condition") or {}).values():
            for value in as_list(condition.get("kms:ViaService", [])):
                services.add(str(value).split(".")[0])
    return services


def denies_insecure_transport(policy: dict) -> bool:
    """The policy denies every principal every S3 action when aws:SecureTransport is false."""
    statements = policy.get("Statement", [])
    for s in statements if isinstance(statements, list) else [statements]:
        actions = s.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        principal = s.get("Principal")
        secure = s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")
        if (
            s.get("Effect") == "Deny"
            and principal in ("*", {"AWS": "*"})
            and "s3:*" in actions
            and str(secure).lower() == "false"
        ):
            return True
    return False


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]
