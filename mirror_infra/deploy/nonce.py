"""The redaction nonce: SSM SecureStrings `/guardian/{env}/redaction_nonce_v{N}`.

Created by the tool (CloudFormation cannot create SecureStrings), once per version: never
overwritten, never printed, kept on destroy unless the user asks otherwise.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from mirror_infra.aws.kms import KeyRefs
from mirror_infra.aws.storage import Ssm
from mirror_infra.errors import DeployError
from mirror_infra.names import NONCE_BASENAME, NONCE_BYTES, Names

_VERSION = re.compile(rf"/{NONCE_BASENAME}_v(\d+)$")


@dataclass(frozen=True)
class NonceVersion:
    name: str
    version: int
    type: str
    key_id: str


def versions(ssm: Ssm, names: Names) -> list[NonceVersion]:
    """Every nonce version under the environment's path, oldest first (values not read)."""
    found = []
    for p in ssm.parameters(names.nonce_path):
        match = _VERSION.search(p.name)
        if match:
            found.append(NonceVersion(p.name, int(match.group(1)), p.type, p.key_id))
    return sorted(found, key=lambda v: v.version)


def _put(ssm: Ssm, name: str, key_id: str, env: str, say: Callable[[str], None]) -> bool:
    """Create `name` with a fresh random value; False if it already exists (never overwritten)."""
    return ssm.create_secure_string(
        name,
        secrets.token_hex(NONCE_BYTES),
        key_id,
        f"Phase Mirror {env} redaction nonce (created by mirror-infra; "
        "never rotated in place: rotate-nonce adds a version)",
        waiting=lambda: say(
            f"waiting for KMS to know the key {key_id} (a new key takes a while to propagate) "
            f"before writing {name} ..."
        ),
    )


def under_key(version: NonceVersion, keys: KeyRefs) -> bool:
    """Whether the application can decrypt the version: a SecureString under the environment's
    key, however SSM records it (the key's id or ARN, or an alias: Terraform writes
    `alias/...`), resolved by KMS, never by decrypting. `verify` judges each version so."""
    return version.type == "SecureString" and keys.is_env_key(version.key_id or None)


def current(found: list[NonceVersion], keys: KeyRefs) -> NonceVersion | None:
    """The version the application should use now: the latest under the environment's key."""
    return next((v for v in reversed(found) if under_key(v, keys)), None)


def ensure(
    ssm: Ssm, names: Names, key_id: str, say: Callable[[str], None] = lambda line: None
) -> tuple[str, bool, NonceVersion]:
    """The first version exists (created now if no version does): (name, created, the latest
    version), with one read of the path when a version exists."""
    existing = versions(ssm, names)
    if existing:
        return existing[-1].name, False, existing[-1]
    name = names.nonce_parameter(1)
    created = _put(ssm, name, key_id, names.env, say)
    if not created:  # another apply got there first: what it wrote is the latest
        return name, False, versions(ssm, names)[-1]
    return name, True, NonceVersion(name, 1, "SecureString", key_id)


def rotate(
    ssm: Ssm, names: Names, key_id: str, say: Callable[[str], None] = lambda line: None
) -> str:
    """Add the next version; older versions are not touched."""
    existing = versions(ssm, names)
    next_version = (existing[-1].version if existing else 0) + 1
    name = names.nonce_parameter(next_version)
    if not _put(ssm, name, key_id, names.env, say):
        raise DeployError(
            f"{name} appeared while rotating (another rotate-nonce got there first); nothing "
            "was overwritten: run rotate-nonce again if another version is still wanted"
        )
    return name


def delete_all(ssm: Ssm, names: Names) -> list[str]:
    """Delete every version (only on an explicit --delete-nonce)."""
    gone = [v.name for v in versions(ssm, names)]
    ssm.delete(gone)
    return gone
