"""The artifacts upload's S3 calls, in AWS's response shapes (botocore Stubber): what the
local AWS cannot show — a bucket owner check it ignores, and the 403 that HeadObject answers
for a missing key without s3:ListBucket (API_HeadObject.html)."""

from __future__ import annotations

import base64
import hashlib

import boto3
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
