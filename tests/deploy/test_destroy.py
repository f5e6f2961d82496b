"""destroy --empty-buckets: staging's bucket (not retained) is emptied after the same
confirmation, with the count shown first; a retained bucket is never touched."""

from __future__ import annotations

import pytest

BUCKET = "mirror-{env}-baselines-123456789012-us-east-1"


def _fill(s3, env: str) -> None:
    bucket = BUCKET.format(env=env)
    s3.put_object(Bucket=bucket, Key="rules/r1.json", Body=b"v1")
    s3.put_object(Bucket=bucket, Key="rules/r1.json", Body=b"v2")
    s3.delete_object(Bucket=bucket, Key="rules/r1.json")  # a delete marker


def test_a_full_bucket_stops_destroy_until_named(deployed, local_aws):
    s3 = local_aws.client("s3")
    _fill(s3, "staging")
    refused = deployed("destroy", "--yes")
    assert refused.code == 1
    assert "the bucket is not empty (3 object version(s)" in refused.err
    assert "--empty-buckets deletes them first" in refused.err
    versions = s3.list_object_versions(Bucket=BUCKET.format(env="staging"))
    assert len(versions["Versions"]) + len(versions["DeleteMarkers"]) == 3

    emptied = deployed("destroy", "--yes", "--empty-buckets")
    assert emptied.code == 0, emptied.text
    assert "--empty-buckets deletes 3 object version(s) and delete marker(s)" in emptied.out
    names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert BUCKET.format(env="staging") not in names


def test_a_retained_bucket_is_never_emptied(cli, local_aws):
    assert cli("bootstrap", "--env", "production").code == 0
    assert cli("apply", "--env", "production", "--yes").code == 0
    s3 = local_aws.client("s3")
    _fill(s3, "production")
    local_aws.client("cloudformation").update_termination_protection(
        StackName="mirror-dissonance-production", EnableTerminationProtection=False
    )
    done = cli("destroy", "--env", "production", "--confirm-env", "production", "--empty-buckets")
    assert done.code == 0, done.text
    assert "--empty-buckets deletes" not in done.out
    versions = s3.list_object_versions(Bucket=BUCKET.format(env="production"))
    assert len(versions["Versions"]) + len(versions["DeleteMarkers"]) == 3


def test_a_run_s_proof_does_not_confirm_a_real_environment(deployed):
    """destroy's consent: a test run's proof of what it created confirms nothing outside a
    test run's own environment, even when it names the very stack."""
    from mirror_infra.deploy import destroy
    from mirror_infra.deploy.context import Deployment
    from mirror_infra.errors import Aborted

    dep = Deployment.open("staging", None, local=True, profile=None)
    stack_id = dep.cfn.stack(dep.stack_name).stack_id
    proof = destroy.Created(stack_id)
    hooks = destroy.Hooks(consent=lambda deletion: destroy.Answer(created=proof))
    with pytest.raises(Aborted, match="not deleted: staging is not a test run's environment"):
        destroy.run(dep, hooks)
    assert dep.cfn.stack(dep.stack_name).stack_id == stack_id
