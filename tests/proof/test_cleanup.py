"""The clean-up deletes what the record names and nothing else, each thing checked first:
a stack not tagged with the run's id, a bootstrap stack the run did not create, an object
beside a recorded one, a bucket holding what the run did not record — all left alone."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from proof import cleanup
from proof.aws import Account
from proof.record import Kind, Record
from proof.tool import Tool
from tests.proof.conftest import PROFILE

RUN = "20261207000000-abcdef"
HANDLE = json.dumps({"Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}})


@pytest.fixture
def world(profile, tmp_path):
    aws = Account(PROFILE, "us-east-1")
    record = Record(tmp_path / "record.jsonl")
    record.add(Kind.RUN, RUN, profile=PROFILE, region="us-east-1", account=aws.account_id)
    return aws, Tool(PROFILE, "us-east-1", tmp_path / "projects"), record


def test_a_stack_not_tagged_with_the_run_is_left_and_the_record_kept(world, local_aws):
    aws, tool, record = world
    record.add(Kind.ENVIRONMENT, "pf-12345678", params="", artifacts_bucket="none")
    local_aws.client("cloudformation").create_stack(
        StackName="mirror-dissonance-pf-12345678",
        TemplateBody=HANDLE,
        Tags=[{"Key": cleanup.RUN_TAG, "Value": "another-run"}],
    )
    outcomes = cleanup.everything(aws, tool, record)
    assert [o.result for o in outcomes if o.what.startswith("stack")] == [
        f"left: not tagged {cleanup.RUN_TAG}={RUN}, so not this run's"
    ]
    assert aws.stack("mirror-dissonance-pf-12345678") is not None
    assert not record.finished  # the next run tries again


def test_a_stack_a_create_change_set_made_and_nothing_ran_on_is_deleted(world, local_aws):
    """A run killed between plan and apply leaves its stack REVIEW_IN_PROGRESS."""
    aws, tool, record = world
    record.add(Kind.ENVIRONMENT, "pf-12345678", params="", artifacts_bucket="none")
    local_aws.client("cloudformation").create_change_set(
        StackName="mirror-dissonance-pf-12345678",
        ChangeSetName="create",
        ChangeSetType="CREATE",
        TemplateBody=HANDLE,
        Tags=[{"Key": cleanup.RUN_TAG, "Value": RUN}],
    )
    assert aws.stack("mirror-dissonance-pf-12345678")["StackStatus"] == "REVIEW_IN_PROGRESS"
    outcomes = cleanup.everything(aws, tool, record)
    assert [o.result for o in outcomes if o.what.startswith("stack")] == [
        "deleted (it held nothing)"
    ]
    assert aws.stack("mirror-dissonance-pf-12345678") is None
    assert record.finished


def test_the_bootstrap_stack_goes_only_when_this_run_created_it(world, local_aws):
    from mirror_infra.aws.target import Target
    from mirror_infra.deploy.bootstrap import bootstrap

    aws, tool, record = world
    bootstrap(Target.resolve("us-east-1", True, None))
    assert cleanup.everything(aws, tool, record) == []  # not recorded: not even looked at
    assert aws.stack(cleanup.BOOTSTRAP_STACK) is not None
    # recorded as about to be created, but AWS says it existed well before that
    later = datetime.now(UTC) + cleanup.CLOCK_SKEW + timedelta(minutes=1)
    record.add(Kind.BOOTSTRAP, cleanup.BOOTSTRAP_STACK, at=later.isoformat(), bucket="")
    (outcome,) = cleanup.everything(aws, tool, record)
    assert outcome.left and "before this run" in outcome.result
    assert aws.stack(cleanup.BOOTSTRAP_STACK) is not None


def test_only_the_recorded_object_goes_and_a_bucket_holding_more_stays(world, local_aws):
    aws, tool, record = world
    s3 = local_aws.client("s3")
    s3.create_bucket(Bucket="phase-mirror-pf-12345678-baselines-tf")
    s3.put_bucket_versioning(
        Bucket="phase-mirror-pf-12345678-baselines-tf",
        VersioningConfiguration={"Status": "Enabled"},
    )
    for key in ("baselines/rule-r1.json", "baselines/rule-r1.json", "baselines/rule-r1.json.bak"):
        s3.put_object(Bucket="phase-mirror-pf-12345678-baselines-tf", Key=key, Body=b"x")
    record.add(Kind.RESOURCE, "phase-mirror-pf-12345678-baselines-tf", "AWS::S3::Bucket")
    record.add(
        Kind.RESOURCE, "phase-mirror-pf-12345678-baselines-tf/baselines/rule-r1.json", "object"
    )
    outcomes = {o.what: o.result for o in cleanup.everything(aws, tool, record)}
    assert outcomes == {
        "object phase-mirror-pf-12345678-baselines-tf/baselines/rule-r1.json": (
            "deleted (2 version(s))"
        ),
        "AWS::S3::Bucket phase-mirror-pf-12345678-baselines-tf": (
            "left: it holds 1 object version(s) this run did not record"
        ),
    }
    listed = s3.list_object_versions(Bucket="phase-mirror-pf-12345678-baselines-tf")
    assert [v["Key"] for v in listed["Versions"]] == ["baselines/rule-r1.json.bak"]


def test_a_record_of_another_account_is_not_cleaned_up(world, local_aws):
    aws, tool, _ = world
    other = Record(world[2].path.with_name("other.jsonl"))
    other.add(Kind.RUN, RUN, profile=PROFILE, region="us-east-1", account="210987654321")
    other.add(Kind.RESOURCE, "mirror-dissonance-pf-12345678-fp-events", "AWS::DynamoDB::Table")
    (outcome,) = cleanup.everything(aws, tool, other)
    assert outcome.left and "********4321" in outcome.result
    assert not other.finished
