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
            _ways_out(env, v) if other_key else "",
        )
    return ev.check("SSM nonce")


def _ways_out(env: Environment, v: nonce.NonceVersion) -> str:
    """The ways out for a version under a key that is not the environment's (e.g. kept by a
    destroy whose key is now pending deletion; rotate-nonce adds a version under the current
    key but never touches this one, SPEC §2), each an `aws` command aimed at this target. The
    value is never printed: the user adds it."""
    aws = env.dep.target.aws_command
    # CancelKeyDeletion and EnableKey take "the key ID or key ARN", not an alias
    # (API_CancelKeyDeletion); the id, as the region is named beside it (moto 5.2.5's
    # CancelKeyDeletion fails on an ARN: a gap of the local AWS not closed yet)
    arn = env.keys.arn(v.key_id or None)
    key = arn.rsplit("/", 1)[1] if arn else v.key_id
    put = aws(
        "ssm",
        "put-parameter",
        "--name",
        v.name,
        "--type",
        "SecureString",
        "--overwrite",
        "--key-id",
        env.key_arn,
    )
    return (
        "the application reads every version by path, and its role may decrypt only under the "
        f"environment's key: delete {v.name} if no redaction made with it must still match "
        f"({aws('ssm', 'delete-parameter', '--name', v.name)}); else make its key usable again "
        f"({aws('kms', 'cancel-key-deletion', '--key-id', key)}, then "
        f"{aws('kms', 'enable-key', '--key-id', key)}) and write the same value under the "
        f"environment's key (add --value with it to: {put})"
    )
