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
        other_key = v.type == "SecureString" and not env.keys.is_env_key(v.key_id or None)
        ev.expect(
            v.type == "SecureString" and not other_key,
            f"{v.name}: {v.type} {env.keys.shown(v.key_id or None)}",
            f"SecureString {env.keys.shown(env.key_arn)}",
            # e.g. kept by a destroy whose key is now pending deletion; rotate-nonce adds a
            # version under the current key but never touches this one (SPEC §2)
            f"the application reads every version by path and cannot decrypt this one; cancel "
            f"the deletion of its key (aws kms cancel-key-deletion) if it is pending, or delete "
            f"{v.name} yourself if no redaction made with it must still match"
            if other_key
            else "",
        )
    return ev.check("SSM nonce")
