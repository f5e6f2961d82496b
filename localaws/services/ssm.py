"""A SecureString cannot be decrypted under a KMS key that is disabled or pending deletion.

Corrects moto, which returns the plain value of a SecureString whatever its key's state. On AWS,
SSM decrypts through KMS, and a key that is disabled or pending deletion "cannot be used in
cryptographic operations" (KMS key states, https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html):
GetParameter(s)/GetParametersByPath WithDecryption fail with InvalidKeyId
(API_GetParameter), naming KMS's own error.
"""

from __future__ import annotations

from typing import Any

from moto.ssm.exceptions import SSMException

_original_response_object = None
_KMS_ERRORS = {"Disabled": "DisabledException", "PendingDeletion": "KMSInvalidStateException"}


class InvalidKeyId(SSMException):
    def __init__(self, message: str) -> None:
        super().__init__("InvalidKeyId", message)


def _key_state(account_id: str, key_id: str) -> tuple[str, str] | None:
    """(key ARN, state) of the key `key_id` names in any region of the account, if known."""
    from moto.kms.models import kms_backends

    region = key_id.split(":")[3] if key_id.startswith("arn:") else None
    for name, backend in list(kms_backends[account_id].items()):
        if region and name != region:
            continue
        try:
            key = backend.keys[backend.any_id_to_key_id(key_id)]
        except Exception:  # noqa: BLE001 - unknown id or alias in this region
            continue
        return key.arn, key.key_state
    return None


def _response_object(self: Any, decrypt: bool = False, region: str | None = None) -> dict:
    if decrypt and self.parameter_type == "SecureString" and self.keyid:
        found = _key_state(self.account_id, self.keyid)
        if found and found[1] in _KMS_ERRORS:
            arn, state = found
            word = "disabled" if state == "Disabled" else "pending deletion"
            raise InvalidKeyId(
                f"{arn} is {word}. (Service: AWSKMS; Status Code: 400; Error Code: "
                f"{_KMS_ERRORS[state]})"
            )
    return _original_response_object(self, decrypt, region)


def install() -> None:
    global _original_response_object
    from moto.ssm.models import Parameter

    if _original_response_object is None:
        _original_response_object = Parameter.response_object
        Parameter.response_object = _response_object
