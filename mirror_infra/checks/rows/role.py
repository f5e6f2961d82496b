"""The application role exists and carries its policies; GitHub Actions, when params trust
them, reach it through the account's GitHub OIDC provider, which exists."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from mirror_infra import contract
from mirror_infra.aws.errors import AwsErrorKind, classify
from mirror_infra.checks.base import Check, Environment, Evidence
from mirror_infra.checks.policies import as_list

ID = "role"
DESCRIPTION = "Application role with its policies (and the GitHub OIDC provider it trusts)"


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
    statements = as_list(trust.get("Statement", []))
    services = sorted(
        str(p) for s in statements for p in as_list(s.get("Principal", {}).get("Service", []))
    )
    ev = Evidence()
    ev.fact(name)
    ev.expect(
        bool(inline or attached),
        f"policies: {len(inline)} inline, {len(attached)} managed",
        "at least one policy",
    )
    ev.fact(f"trusted by {', '.join(services) or 'no service'}")
    if env.dep.cfg.app_role.github_oidc:
        _github_oidc(env, ev, statements)
    return ev.check("application role")


def _github_oidc(env: Environment, ev: Evidence, statements: list) -> None:
    """The trust names the account's GitHub OIDC provider, and that provider exists with STS as
    an audience (mirror-infra never creates it: it is account-wide, and bootstrap is per
    region; GetOpenIDConnectProvider, https://docs.aws.amazon.com/IAM/latest/APIReference/
    API_GetOpenIDConnectProvider.html)."""
    iam = env.client("iam")
    host = contract.GITHUB_OIDC_HOST
    named = [
        str(p)
        for s in statements
        for p in as_list(s.get("Principal", {}).get("Federated", []))
        if str(p).endswith(f":oidc-provider/{host}")
    ]
    if not ev.expect(bool(named), "no GitHub OIDC trust", f"a statement for {host} (params)"):
        return
    arn = named[0]
    aws = env.dep.target.aws_command
    create = (
        "create the account's GitHub OIDC provider once (mirror-infra never does: it is "
        "account-wide): "
        + aws(
            "iam",
            "create-open-id-connect-provider",
            "--url",
            f"https://{host}",
            "--client-id-list",
            contract.GITHUB_OIDC_AUDIENCE,
        )
    )
    try:
        provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    except ClientError as exc:
        if classify(exc) is not AwsErrorKind.NOT_FOUND:
            raise
        ev.expect(False, f"GitHub OIDC provider {arn} missing", "it to exist", create)
        return
    audiences = provider.get("ClientIDList", [])
    ev.expect(
        contract.GITHUB_OIDC_AUDIENCE in audiences,
        f"GitHub OIDC provider {arn} (audiences {', '.join(audiences) or 'none'})",
        f"audience {contract.GITHUB_OIDC_AUDIENCE}",
        "add the audience: "
        + aws(
            "iam",
            "add-client-id-to-open-id-connect-provider",
            "--open-id-connect-provider-arn",
            arn,
            "--client-id",
            contract.GITHUB_OIDC_AUDIENCE,
        ),
    )
