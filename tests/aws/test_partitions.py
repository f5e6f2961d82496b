"""Every ARN and URL the tool builds, and every ARN pattern it validates, in every partition
botocore knows: the region's own partition name and DNS suffix, never the commercial ones.

The expected partitions are transcribed below (from botocore 1.44.8's data/partitions.json),
and checked against botocore's endpoint resolver, which reads its endpoints.json; a partition
botocore adds fails `test_the_table_covers_every_partition_botocore_knows` until it is added
here and reviewed. The local AWS is one commercial region, so the AWS calls are stubbed."""

from __future__ import annotations

import boto3
import pytest
from botocore.loaders import create_loader
from botocore.regions import EndpointResolver
from botocore.stub import Stubber

from mirror_infra.aws import partitions
from mirror_infra.aws.inventory import Inventory
from mirror_infra.aws.storage import S3
from mirror_infra.checks.rows.dashboard import dashboard_url
from mirror_infra.config import AppRole, load
from mirror_infra.errors import ConfigError
from mirror_infra.multiregion import outputs

ACCOUNT = "123456789012"
# partition -> (a region of it, its ${AWS::URLSuffix})
EXPECTED = {
    "aws": ("eu-west-1", "amazonaws.com"),
    "aws-cn": ("cn-north-1", "amazonaws.com.cn"),
    "aws-eusc": ("eusc-de-east-1", "amazonaws.eu"),
    "aws-iso": ("us-iso-east-1", "c2s.ic.gov"),
    "aws-iso-b": ("us-isob-east-1", "sc2s.sgov.gov"),
    "aws-iso-e": ("eu-isoe-west-1", "cloud.adc-e.uk"),
    "aws-iso-f": ("us-isof-south-1", "csp.hci.ic.gov"),
    "aws-us-gov": ("us-gov-west-1", "amazonaws.com"),
}
PARTITIONS = sorted(EXPECTED)


def _resolver() -> EndpointResolver:
    # botocore's endpoint resolver reads its endpoints.json, not partitions.json
    return EndpointResolver(create_loader().load_data("endpoints"))


def _client(service: str, region: str):
    return boto3.client(
        service, region_name=region, aws_access_key_id="x", aws_secret_access_key="x"
    )


def test_the_table_covers_every_partition_botocore_knows():
    assert set(_resolver().get_available_partitions()) == set(EXPECTED)
    assert {p.name for p in partitions.partitions()} == set(EXPECTED)


def test_every_region_is_in_the_partition_botocore_resolves_it_to():
    resolver = _resolver()
    regions = {r for p in PARTITIONS for r in resolver.get_available_endpoints("s3", p)}
    regions |= {region for region, _ in EXPECTED.values()}
    for region in sorted(regions):
        found = partitions.of_region(region)
        expected = resolver.get_partition_for_region(region)
        assert found.name == expected, region
        assert found.dns_suffix == resolver.get_partition_dns_suffix(expected), region


def test_a_region_in_no_partition_is_refused():
    with pytest.raises(ValueError, match="'mars-north-1' is in no AWS partition botocore knows"):
        partitions.of_region("mars-north-1")


@pytest.mark.parametrize("partition", PARTITIONS)
def test_a_nested_template_url_uses_the_regions_suffix(partition):
    region, suffix = EXPECTED[partition]
    url = S3(_client("s3", region)).template_url("artifacts", "templates/staging/kms-1.json")
    assert url == f"https://artifacts.s3.{region}.{suffix}/templates/staging/kms-1.json"


@pytest.mark.parametrize("partition", PARTITIONS)
def test_adopt_builds_arns_and_pseudo_parameters_of_the_regions_partition(partition):
    region, suffix = EXPECTED[partition]
    sns = _client("sns", region)
    s3 = _client("s3", region)
    inventory = Inventory(lambda service: {"sns": sns, "s3": s3}[service], ACCOUNT, region)
    assert (inventory.partition, inventory.url_suffix) == (partition, suffix)
    topic = f"arn:{partition}:sns:{region}:{ACCOUNT}:mirror-dissonance-staging-ops-alerts"
    bucket = {"Bucket": "b", "ExpectedBucketOwner": ACCOUNT}
    with Stubber(sns) as sns_stub, Stubber(s3) as s3_stub:
        sns_stub.add_response("get_topic_attributes", {"Attributes": {}}, {"TopicArn": topic})
        s3_stub.add_response("get_bucket_location", {"LocationConstraint": region}, bucket)
        s3_stub.add_client_error("get_bucket_policy", "NoSuchBucketPolicy", "none", 404, bucket)
        assert inventory.topic("mirror-dissonance-staging-ops-alerts").arn == topic
        assert inventory.bucket("b").arn == f"arn:{partition}:s3:::b"


@pytest.mark.parametrize("partition", PARTITIONS)
def test_a_trusted_role_of_every_partition_is_accepted(partition):
    for arn in (f"arn:{partition}:iam::{ACCOUNT}:role/ci", f"arn:{partition}:iam::{ACCOUNT}:root"):
        assert AppRole(trusted_role_arns=[arn]).trusted_role_arns == [arn]


@pytest.mark.parametrize("partition", PARTITIONS)
def test_a_service_principal_of_every_partitions_suffix_is_accepted(partition):
    principal = f"ecs-tasks.{EXPECTED[partition][1]}"
    assert AppRole(trusted_services=[principal]).trusted_services == [principal]


@pytest.mark.parametrize(
    "arn",
    [
        f"arn:aws-moon:iam::{ACCOUNT}:role/ci",  # no such partition
        f"arn:awscn:iam::{ACCOUNT}:role/ci",
        f"arn:aws:iam::{ACCOUNT}:role/ci\n",  # matched whole
        f"arn:aws:iam::{ACCOUNT}:user/someone",
    ],
)
def test_a_role_arn_of_no_partition_is_refused(project, arn):
    params = project / "params" / "staging.yaml"
    params.write_text(
        params.read_text().replace("trusted_role_arns: []", f"trusted_role_arns: [{arn!r}]")
    )
    with pytest.raises(ConfigError, match="app_role.trusted_role_arns.0: expected an IAM role"):
        load("staging")


@pytest.mark.parametrize("partition", PARTITIONS)
def test_taskcat_wants_arns_of_the_tested_regions_partition(partition):
    region, _ = EXPECTED[partition]
    want = outputs.expected(load("staging"), region, ACCOUNT)
    ours = f"arn:{partition}:kms:{region}:{ACCOUNT}:key/1234abcd-12ab"
    assert want["KmsKeyArn"].fullmatch(ours)
    for other in PARTITIONS:
        if other != partition:
            assert not want["KmsKeyArn"].fullmatch(ours.replace(partition, other, 1)), other


@pytest.mark.parametrize("partition", PARTITIONS)
def test_the_dashboard_link_only_where_the_console_is_known(partition):
    region, _ = EXPECTED[partition]
    link = dashboard_url(region, "mirror-dissonance-staging-x")
    if partition == "aws":
        assert link == (
            f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
            "#dashboards:name=mirror-dissonance-staging-x"
        )
    else:
        assert link == ""  # botocore's data names no console domain: no link, not a wrong one
