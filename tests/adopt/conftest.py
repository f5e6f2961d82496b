"""The source document's staging environment, made as its Terraform would make it: plain boto3
calls against the local AWS, none of this tool's templates. Its names are the seed's (SPEC §2),
written out in tests/expected.py independently of the code under test."""

from __future__ import annotations

import pytest

from tests.adopt.terraformed import (
    TF_BUCKET,
    Terraformed,
    nonce_of,
    objects_of,
)
from tests.deploy.conftest import Cli


def unchanged(local_aws, made: Terraformed) -> None:
    """Items, object versions and the nonce exactly as Terraform's environment held them."""
    ddb = local_aws.client("dynamodb")
    assert {t: ddb.scan(TableName=t)["Items"] for t in made.items} == made.items
    if made.objects:
        assert objects_of(local_aws.client("s3")) == made.objects
    if made.nonce:
        assert nonce_of(local_aws.client("ssm")) == made.nonce


@pytest.fixture
def cli(linted_project, local_aws, capsys) -> Cli:
    return Cli(capsys)


@pytest.fixture
def adopting(project):
    """params/staging.yaml naming Terraform's bucket for adoption (SPEC §2)."""
    params = project / "params" / "staging.yaml"
    params.write_text(params.read_text() + f"baselines_bucket: {TF_BUCKET}\n")
    return params
