"""Which KMS key a reference names: the key id, key ARN, alias name or alias ARN that a
resource records, resolved by KMS itself (DescribeKey, ListAliases), never by decrypting."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from mirror_infra.aws.errors import AwsErrorKind, classify


@dataclass
class KeyRefs:
    """Resolves a KMS key reference as AWS stores it (key id, key ARN, alias name or alias ARN)
    to the key's ARN, and names the environment's key by its alias. Cached; thread-safe.

    SSM records a SecureString's key as it was given ("The alias of the ... KMS key used to
    encrypt the parameter", API_ParameterMetadata), so a nonce written with `alias/...` (as the
    source document's Terraform does) is resolved through DescribeKey, which takes "key ID, key
    ARN, alias name, or alias ARN" (https://docs.aws.amazon.com/kms/latest/APIReference/
    API_DescribeKey.html). An alias resolves to the key it points to now."""

    kms: object
    env_key_arn: str
    _arns: dict[str, str | None] = field(default_factory=dict, repr=False)
    _aliases: list[str] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def arn(self, ref: str | None) -> str | None:
        """The key ARN behind `ref`, or None when it does not resolve."""
        if not ref:
            return None
        if ref == self.env_key_arn:
            return ref
        with self._lock:
            if ref in self._arns:
                return self._arns[ref]
        try:
            found: str | None = self.kms.describe_key(KeyId=ref)["KeyMetadata"]["Arn"]
        except ClientError as exc:
            if classify(exc) not in (AwsErrorKind.NOT_FOUND, AwsErrorKind.ACCESS_DENIED):
                raise
            found = None
        with self._lock:
            self._arns[ref] = found
        return found

    def state(self, ref: str | None) -> str:
        """The key's `KeyState` from DescribeKey (`Enabled`, `PendingDeletion`, `Disabled`, ...:
        only `Enabled` decrypts, https://docs.aws.amazon.com/kms/latest/developerguide/
        key-state.html); "" when `ref` resolves to no key."""
        if not ref:
            return ""
        try:
            return self.kms.describe_key(KeyId=ref)["KeyMetadata"].get("KeyState", "")
        except ClientError as exc:
            if classify(exc) not in (AwsErrorKind.NOT_FOUND, AwsErrorKind.ACCESS_DENIED):
                raise
            return ""

    def is_env_key(self, ref: str | None) -> bool:
        return self.arn(ref) == self.env_key_arn

    def aliases(self) -> list[str]:
        """The aliases of the environment's key, sorted."""
        if self._aliases is None:
            pages = self.kms.get_paginator("list_aliases").paginate(KeyId=self.env_key_arn)
            found = sorted(a["AliasName"] for page in pages for a in page["Aliases"])
            with self._lock:
                self._aliases = found
        return list(self._aliases)

    def shown(self, ref: str | None) -> str:
        """How a row names the key `ref` points at: the environment's alias, or the raw ref."""
        if not ref:
            return "no key"
        if self.is_env_key(ref):
            aliases = self.aliases()
            return aliases[0] if aliases else self.env_key_arn
        return ref
