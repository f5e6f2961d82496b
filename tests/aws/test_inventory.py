"""adopt's lookups in AWS's response shapes (botocore Stubber), where the local AWS, a single
account, cannot show it: a bucket of that name in another account is not ours to import.
GetBucketLocation with ExpectedBucketOwner answers 403 AccessDenied when the bucket belongs to
another account (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html)."""

from __future__ import annotations

import boto3
from botocore.stub import Stubber

from mirror_infra.aws.inventory import Inventory

ACCOUNT = "123456789012"


def _inventory(service: str):
    client = boto3.client(
        service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    return client, Stubber(client), Inventory(lambda _: client, ACCOUNT, "us-east-1")


def test_a_bucket_of_another_account_is_not_found():
    client, stubber, inventory = _inventory("s3")
    stubber.add_client_error(
        "get_bucket_location",
        "AccessDenied",
        "Access Denied",
        403,
        {"Bucket": "their-bucket", "ExpectedBucketOwner": ACCOUNT},
    )
    with stubber:
        assert inventory.bucket("their-bucket") is None
        stubber.assert_no_pending_responses()


def test_a_bucket_of_this_account_gives_its_region_and_policy():
    client, stubber, inventory = _inventory("s3")
    owner = {"Bucket": "ours", "ExpectedBucketOwner": ACCOUNT}
    stubber.add_response("get_bucket_location", {"LocationConstraint": "eu-west-1"}, owner)
    stubber.add_response("get_bucket_policy", {"Policy": "{}"}, owner)
    with stubber:
        found = inventory.bucket("ours")
    assert (found.region, found.identifier, found.extra["policy"]) == (
        "eu-west-1",
        {"BucketName": "ours"},
        "yes",
    )
