"""A SecureString needs a KMS key that exists and can be used, to be written and to be read.

Corrects moto, which returns the plain value of a SecureString whatever its key's state, and
writes one under any KeyId at all. On AWS, SSM encrypts and decrypts through KMS, and a key that
is disabled or pending deletion "cannot be used in cryptographic operations" (KMS key states,
https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html):
- GetParameter(s)/GetParametersByPath WithDecryption fail with InvalidKeyId (API_GetParameter),
  naming KMS's own error;
- PutParameter of a SecureString fails with InvalidKeyId (API_PutParameter: "The query key ID
  isn't valid") when KMS does not know the key or alias (its NotFoundException), or cannot use it
  (DisabledException, KMSInvalidStateException); AWS's message names KMS's error, as in
  "Key 'arn:aws:kms:...:key/...' does not exist (Service: AWSKMS; Status Code: 400; Error Code:
  NotFoundException; ...)" (reported in binxio/aws-ssm-copy issue 10, segmentio/chamber 355).
"""

from __future__ import annotations

import inspect
from typing import Any

from moto.ssm.exceptions import SSMException

_original_response_object = None
_original_put_parameter = None
_put_signature = None  # moto's put_parameter's, to read its arguments however it is called
_KMS_ERRORS = {"Disabled": "DisabledException", "PendingDeletion": "KMSInvalidStateException"}


class InvalidKeyId(SSMException):
    def __init__(self, message: str) -> None:
        super().__init__("InvalidKeyId", message)


def _key_state(account_id: str, key_id: str, home: str | None = None) -> tuple[str, str] | None:
    """(key ARN, state) of the key `key_id` names, if known: in the region its ARN names, else
    in `home` (the caller's region), else in any region of the account."""
    from moto.kms.models import kms_backends

    region = key_id.split(":")[3] if key_id.startswith("arn:") else home
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
            raise _unusable(found)
    return _original_response_object(self, decrypt, region)


def _unusable(state: tuple[str, str]) -> InvalidKeyId:
    arn, key_state = state
    word = "disabled" if key_state == "Disabled" else "pending deletion"
    return InvalidKeyId(
        f"{arn} is {word}. (Service: AWSKMS; Status Code: 400; Error Code: "
        f"{_KMS_ERRORS[key_state]})"
    )


def _put_parameter(self: Any, *args: Any, **kwargs: Any) -> Any:
    bound = _put_signature.bind(self, *args, **kwargs)
    kind, key_id = bound.arguments.get("parameter_type"), bound.arguments.get("keyid")
    # AWS managed keys (alias/aws/ssm, by name or ARN) exist for every account and region
    if kind == "SecureString" and key_id and "alias/aws/" not in key_id:
        found = _key_state(self.account_id, key_id, self.region_name)
        if found is None:
            if key_id.startswith("alias/") or ":alias/" in key_id:
                alias = (
                    key_id
                    if key_id.startswith("arn:")
                    else (f"arn:aws:kms:{self.region_name}:{self.account_id}:{key_id}")
                )
                message = f"Alias {alias} is not found."
            else:
                message = f"Key '{key_id}' does not exist"
            raise InvalidKeyId(
                f"{message} (Service: AWSKMS; Status Code: 400; Error Code: NotFoundException)"
            )
        if found[1] in _KMS_ERRORS:
            raise _unusable(found)
    return _original_put_parameter(self, *args, **kwargs)


def install() -> None:
    global _original_response_object, _original_put_parameter, _put_signature
    from moto.ssm.models import Parameter, SimpleSystemManagerBackend

    if _original_response_object is None:
        _original_response_object = Parameter.response_object
        Parameter.response_object = _response_object
    if _original_put_parameter is None:
        _original_put_parameter = SimpleSystemManagerBackend.put_parameter
        _put_signature = inspect.signature(_original_put_parameter)
        SimpleSystemManagerBackend.put_parameter = _put_parameter
