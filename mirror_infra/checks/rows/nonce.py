"""Every nonce version: a SecureString under the environment's key (metadata only)."""

from __future__ import annotations

from mirror_infra.checks.base import Check, Environment, Evidence
from mirror_infra.deploy import nonce

ID = "nonce"
DESCRIPTION = "Every nonce version a SecureString under the key"


def nonce_row(env: Environment) -> Check:
    """Every nonce version, from the lowest kept up without holes, is a SecureString under the
    environment's key. Reads metadata only: the value is never fetched, not even to decrypt
    it."""
    names = env.dep.names
    found = nonce.versions(env.dep.ssm, names)
    ev = Evidence()
    if not found:
        ev.expect(False, f"{names.nonce_parameter(1)} missing", "SecureString")
        return ev.check("SSM nonce")
    numbers = [v.version for v in found]
    ev.expect(
        numbers == list(range(numbers[0], numbers[0] + len(numbers))),
        f"versions {', '.join(f'v{n}' for n in numbers)}",
        f"v{numbers[0]} to v{numbers[-1]} without gaps",
    )
    if numbers[0] > 1:  # deleted by someone (as the advice below offers): said, not failed
        ev.warn(f"v1 to v{numbers[0] - 1} deleted: redactions made with them no longer match")
    for v in found:
        other_key = v.type == "SecureString" and not env.keys.is_env_key(v.key_id or None)
        ev.expect(
            v.type == "SecureString" and not other_key,
            f"{v.name}: {v.type} {env.keys.shown(v.key_id or None)}",
            f"SecureString {env.keys.shown(env.key_arn)}",
            # e.g. kept by a destroy whose key is now pending deletion; rotate-nonce adds a
            # version under the current key but never touches this one (SPEC §2)
            f"the application reads every version by path, and its role may decrypt only under "
            f"the environment's key: delete {v.name} if no redaction made with it must still "
            "match; else make its key usable again (aws kms cancel-key-deletion, then "
            "enable-key) and write the same value under the environment's key (aws ssm "
            "put-parameter --overwrite --type SecureString --key-id "
            f"{env.key_arn or '<the environment key>'})"
            if other_key
            else "",
        )
    return ev.check("SSM nonce")
