"""The artifacts upload's S3 calls, in AWS's response shapes (botocore Stubber): what the
local AWS cannot show — a bucket owner check it ignores, and the 403 that HeadObject answers
for a missing key without s3:ListBucket (API_HeadObject.html)."""

from __future__ import annotations

import base64
import hashlib

import boto3
import pytest
from botocore.stub import ANY, Stubber

from mirror_infra.aws.storage import S3
from mirror_infra.deploy.package import put_if_absent

BODY = b'{"Resources": {}}'
DIGEST = base64.b64encode(hashlib.sha256(BODY).digest()).decode()


def _s3():
    client = boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    return client, Stubber(client)


def test_a_missing_key_that_answers_403_is_uploaded_to_the_owners_bucket_only():
    client, stubber = _s3()
    owner = {"Bucket": "b", "Key": "k", "ExpectedBucketOwner": "123456789012"}
    stubber.add_client_error(
        "head_object", "403", "Forbidden", 403, {**owner, "ChecksumMode": "ENABLED"}
    )
    stubber.add_response(
        "put_object",
        {},
        {**owner, "Body": ANY, "ContentType": "application/json", "ChecksumAlgorithm": "SHA256"},
    )
    with stubber:
        assert put_if_absent(S3(client, owner="123456789012"), "b", "k", BODY).uploaded
        stubber.assert_no_pending_responses()


def test_a_stored_copy_with_the_same_checksum_is_reused():
    client, stubber = _s3()
    stubber.add_response(
        "head_object",
        {"ChecksumSHA256": DIGEST},
        {"Bucket": "b", "Key": "k", "ExpectedBucketOwner": "1", "ChecksumMode": "ENABLED"},
    )
    with stubber:
        assert not put_if_absent(S3(client, owner="1"), "b", "k", BODY).uploaded
        stubber.assert_no_pending_responses()


def _ssm():
    client = boto3.client(
        "ssm", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    return client, Stubber(client)


KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
# AWS's text for a key KMS does not know (binxio/aws-ssm-copy issue 10)
UNKNOWN = (
    f"Key '{KEY}' does not exist (Service: AWSKMS; Status Code: 400; Error Code: NotFoundException)"
)


def test_a_key_kms_does_not_know_yet_is_waited_for_before_the_nonce_is_written(monkeypatch):
    """Right after an express create the key may not have propagated: KMS answers
    NotFoundException for a while (programming-eventual-consistency.html) and SSM's PutParameter
    InvalidKeyId (API_PutParameter.html, HTTP 400). The nonce is written once the key is
    known, not left unwritten."""
    from mirror_infra.aws import storage

    monkeypatch.setattr(storage.time, "sleep", lambda seconds: None)
    client, stubber = _ssm()
    for _ in range(2):
        stubber.add_client_error(
            "put_parameter", "InvalidKeyId", f"Key {KEY} is not found.", 400, expected_params=None
        )
    stubber.add_response("put_parameter", {"Version": 1, "Tier": "Standard"})
    waited: list[str] = []
    with stubber:
        ssm = storage.Ssm(client)
        assert ssm.create_secure_string(
            "/guardian/s/n_v1", "v", KEY, "d", waiting=lambda: waited.append("said")
        )
        stubber.assert_no_pending_responses()
    assert waited == ["said"]  # the wait is said once, not left silent


def test_a_key_that_stays_unknown_fails_the_write_after_the_propagation_window(monkeypatch):
    from botocore.exceptions import ClientError

    from mirror_infra.aws import storage

    clock = [0.0]
    monkeypatch.setattr(storage.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(
        storage.time, "sleep", lambda seconds: clock.__setitem__(0, clock[0] + seconds)
    )
    client, stubber = _ssm()
    for _ in range(30):
        stubber.add_client_error("put_parameter", "InvalidKeyId", UNKNOWN, 400)
    with stubber, pytest.raises(ClientError, match="InvalidKeyId"):
        storage.Ssm(client).create_secure_string("/guardian/s/n_v1", "v", KEY, "d")
    assert storage.KEY_PROPAGATION - 10 <= clock[0] <= storage.KEY_PROPAGATION


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("AccessDeniedException", "denied"),
        # a key KMS knows but will not use: no wait mends that (segmentio/chamber issue 355)
        (
            "InvalidKeyId",
            f"{KEY} is pending deletion. (Service: AWSKMS; Status Code: 400; "
            "Error Code: KMSInvalidStateException)",
        ),
    ],
)
def test_other_put_parameter_errors_are_not_retried(monkeypatch, code, message):
    from botocore.exceptions import ClientError

    from mirror_infra.aws import storage

    monkeypatch.setattr(storage.time, "sleep", lambda seconds: pytest.fail("retried"))
    client, stubber = _ssm()
    stubber.add_client_error("put_parameter", code, message, 400)
    with stubber, pytest.raises(ClientError, match=code):
        storage.Ssm(client).create_secure_string("/guardian/s/n_v1", "v", KEY, "d")


def test_the_first_nonce_write_says_it_is_waiting_for_the_key(monkeypatch):
    """apply's finish (and rotate-nonce) pass their way of saying things down to the write."""
    from mirror_infra.aws import storage
    from mirror_infra.deploy import nonce
    from mirror_infra.names import Names

    monkeypatch.setattr(storage.time, "sleep", lambda seconds: None)
    names = Names("staging")
    client, stubber = _ssm()
    stubber.add_response("describe_parameters", {"Parameters": []})
    stubber.add_client_error("put_parameter", "InvalidKeyId", UNKNOWN, 400)
    stubber.add_response("put_parameter", {"Version": 1, "Tier": "Standard"})
    said: list[str] = []
    with stubber:
        name, created, _ = nonce.ensure(storage.Ssm(client), names, KEY, said.append)
    assert (name, created) == ("/guardian/staging/redaction_nonce_v1", True)
    assert said == [
        f"waiting for KMS to know the key {KEY} (a new key takes a while to propagate) before "
        "writing /guardian/staging/redaction_nonce_v1 ..."
    ]
