"""The application role exists and carries its policies."""

from __future__ import annotations

import json

from mirror_infra.checks.base import Check, Environment, Evidence
from mirror_infra.checks.policies import as_list

ID = "role"
DESCRIPTION = "Application role with its policies"


def role_row(env: Environment) -> Check:
    """The application role exists and carries its policies."""
    iam = env.client("iam")
    name = env.dep.names.app_role(env.region)
    role = iam.get_role(RoleName=name)["Role"]
    inline = iam.list_role_policies(RoleName=name)["PolicyNames"]
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    trust = role.get("AssumeRolePolicyDocument", {})
    if isinstance(trust, str):  # URL-encoded JSON when not decoded by the SDK
        from urllib.parse import unquote

        trust = json.loads(unquote(trust))
    services = sorted(
        str(p)
        for s in trust.get("Statement", [])
        for p in as_list(s.get("Principal", {}).get("Service", []))
    )
    ev = Evidence()
    ev.fact(name)
    ev.expect(
        bool(inline or attached),
        f"policies: {len(inline)} inline, {len(attached)} managed",
        "at least one policy",
    )
    ev.fact(f"trusted by {', '.join(services) or 'roles only'}")
    return ev.check("application role")
