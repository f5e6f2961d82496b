"""The redaction nonce: SSM SecureStrings `/guardian/{env}/redaction_nonce_v{N}`.

Created by the tool (CloudFormation cannot create SecureStrings), once per version: never
overwritten, never printed, kept on destroy unless the user asks otherwise.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from botocore.exceptions import ClientError

from mirror_infra.aws.errors import AwsErrorKind, classify
from mirror_infra.names import NONCE_BASENAME, NONCE_BYTES, Names

_VERSION = re.compile(rf"/{NONCE_BASENAME}_v(\d+)$")


@dataclass(frozen=True)
class NonceVersion:
    name: str
    version: int
    type: str
    key_id: str


def versions(ssm, names: Names) -> list[NonceVersion]:
    """Every nonce version under the environment's path, oldest first (values not read)."""
    found = []
    paginator = ssm.get_paginator("describe_parameters")
    filters = [{"Key": "Path", "Option": "OneLevel", "Values": [names.nonce_path]}]
    for page in paginator.paginate(ParameterFilters=filters):
        for p in page["Parameters"]:
            match = _VERSION.search(p["Name"])
            if match:
                found.append(
                    NonceVersion(p["Name"], int(match.group(1)), p["Type"], p.get("KeyId", ""))
                )
    return sorted(found, key=lambda v: v.version)


def _put(ssm, name: str, key_id: str, env: str) -> bool:
    """Create `name` with a fresh random value; False if it already exists (never overwritten)."""
    try:
        ssm.put_parameter(
            Name=name,
            Description=f"Phase Mirror {env} redaction nonce (created by mirror-infra; "
            "never rotated in place: rotate-nonce adds a version)",
            Value=secrets.token_hex(NONCE_BYTES),
            Type="SecureString",
            KeyId=key_id,
            Overwrite=False,
            Tier="Standard",
        )
    except ClientError as exc:
        if classify(exc) is AwsErrorKind.ALREADY_EXISTS:
            return False
        raise
    return True


def ensure(ssm, names: Names, key_id: str) -> tuple[str, bool]:
    """The first version exists (created now if no version does): (name, created)."""
    existing = versions(ssm, names)
    if existing:
        return existing[-1].name, False
    name = names.nonce_parameter(1)
    return name, _put(ssm, name, key_id, names.env)


def rotate(ssm, names: Names, key_id: str) -> str:
    """Add the next version; older versions are not touched."""
    existing = versions(ssm, names)
    next_version = (existing[-1].version if existing else 0) + 1
    name = names.nonce_parameter(next_version)
    if not _put(ssm, name, key_id, names.env):  # pragma: no cover - a concurrent rotation
        raise RuntimeError(f"{name} appeared while rotating; run rotate-nonce again")
    return name


def delete_all(ssm, names: Names) -> list[str]:
    """Delete every version (only on an explicit --delete-nonce)."""
    gone = [v.name for v in versions(ssm, names)]
    for start in range(0, len(gone), 10):
        ssm.delete_parameters(Names=gone[start : start + 10])
    return gone
