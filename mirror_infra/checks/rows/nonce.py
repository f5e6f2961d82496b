"""Every nonce version: a SecureString under the environment's key (metadata only)."""

from __future__ import annotations

from mirror_infra.checks.base import Check, Environment, Evidence
from mirror_infra.deploy import nonce

ID = "nonce"
DESCRIPTION = "Every nonce version a SecureString under the key"


def nonce_row(env: Environment) -> Check:
    """Every nonce version exists from v1 up, as a SecureString under the environment's key.
    Reads metadata only: the value is never fetched, not even to decrypt it."""
    names = env.dep.names
    found = nonce.versions(env.dep.ssm, names)
    ev = Evidence()
    if not found:
        ev.expect(False, f"{names.nonce_parameter(1)} missing", "SecureString")
        return ev.check("SSM nonce")
    numbers = [v.version for v in found]
    ev.expect(
        numbers == list(range(1, len(numbers) + 1)),
        f"versions {', '.join(f'v{n}' for n in numbers)}",
        f"v1 to v{numbers[-1]} without gaps",
    )
    for v in found:
        ev.expect(
            v.type == "SecureString" and env.keys.is_env_key(v.key_id or None),
            f"{v.name}: {v.type} {env.keys.shown(v.key_id or None)}",
            f"SecureString {env.keys.shown(env.key_arn)}",
        )
    return ev.check("SSM nonce")
