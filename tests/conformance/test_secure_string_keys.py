"""What apply's nonce write relies on (mirror_infra/aws/storage.py): SSM refuses to write a
SecureString under a KMS key that KMS does not know with InvalidKeyId (API_PutParameter: "The
query key ID isn't valid"), which is how a key that has not propagated yet looks right after an
express create (KMS: "You might get unexpected errors, such as a NotFoundException",
programming-eventual-consistency.html). Runs on a real account too: the key named is a random
id that no account holds, so nothing is written; a parameter that AWS wrote after all is
deleted, named under the suite's own prefix."""

from __future__ import annotations

import contextlib
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.conformance.conftest import PREFIX


def test_a_secure_string_under_a_key_kms_does_not_know_is_invalid_key_id(target):
    sts = target.client("sts")
    identity = sts.get_caller_identity()
    partition = identity["Arn"].split(":")[1]
    key = f"arn:{partition}:kms:{target.region}:{identity['Account']}:key/{uuid.uuid4()}"
    name = f"/{PREFIX}{uuid.uuid4().hex[:8]}/nonce"
    ssm = target.client("ssm")
    try:
        with pytest.raises(ClientError) as raised:
            ssm.put_parameter(Name=name, Value="x" * 64, Type="SecureString", KeyId=key)
        assert raised.value.response["Error"]["Code"] == "InvalidKeyId"
        with pytest.raises(ClientError) as missing:
            ssm.get_parameter(Name=name)
        assert missing.value.response["Error"]["Code"] == "ParameterNotFound"
    finally:
        with contextlib.suppress(ClientError):  # not written, as expected
            ssm.delete_parameter(Name=name)
