"""destroy --empty-buckets: staging's bucket (not retained) is emptied after the same
confirmation, with the count shown first; a retained bucket is never touched. Destroy never
keeps a nonce its own deletion makes unreadable, and destroy then apply leaves an environment
the application can use. destroy on a stack that was never created (REVIEW_IN_PROGRESS)
refuses and says what removes it."""

from __future__ import annotations

import json
import re

import pytest

from tests.advice import commands, follow, follow_tool

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
    assert "(add --delete-nonce to delete them with their key" in refused.err  # and the nonce
    versions = s3.list_object_versions(Bucket=BUCKET.format(env="staging"))
    assert len(versions["Versions"]) + len(versions["DeleteMarkers"]) == 3

    emptied = deployed("destroy", "--yes", "--empty-buckets", "--delete-nonce")
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
        destroy.run(dep, hooks, delete_nonce=True)  # the nonce with its key: nothing else stops it
    assert dep.cfn.stack(dep.stack_name).stack_id == stack_id


STAGING = "mirror-dissonance-staging"
V1 = "/guardian/staging/redaction_nonce_v1"


def _nonce(local_aws, name: str = V1) -> dict | None:
    ssm = local_aws.client("ssm")
    try:
        return ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    except ssm.exceptions.ParameterNotFound:
        return None


def _kept(local_aws) -> bool:
    """Whether v1 exists (read without decrypting: its key may be pending deletion)."""
    ssm = local_aws.client("ssm")
    found = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [V1]}])
    return bool(found["Parameters"])


def _stacks(local_aws) -> set[str]:
    cfn = local_aws.client("cloudformation")
    return {s["StackName"] for s in cfn.describe_stacks()["Stacks"]}


def test_destroy_then_apply_with_no_extra_flags_leaves_a_working_environment(deployed, local_aws):
    """Issue 25: destroy kept the nonce but scheduled its key for deletion, and the next apply
    failed after creating everything. Now destroy refuses to keep versions whose key goes with
    the stack, before anyone is asked; apply then has nothing to repair, verify passes and the
    nonce is as it was. Its advice (add --delete-nonce), followed, deletes the versions with
    their key, and destroy then apply ends with a working environment again."""
    kept = _nonce(local_aws)
    refused = deployed("destroy", "--yes", "--empty-buckets")
    assert refused.code == 1, refused.text
    last = refused.err.strip().splitlines()[-1]
    assert last.startswith(f"error: cannot destroy: {V1} would be kept, but the key they are ")
    assert "goes with the stack, so nobody could read them" in last
    assert STAGING in _stacks(local_aws)
    assert deployed("apply", "--yes").code == 0
    assert deployed("verify").code == 0
    assert _nonce(local_aws)["Value"] == kept["Value"]  # the data intact

    advice = re.search(r"\(add (--[a-z-]+) to delete them with their key", last).group(1)
    destroyed = deployed("destroy", "--yes", "--empty-buckets", advice, "--json")
    assert destroyed.code == 0, destroyed.text
    outcome = json.loads(destroyed.out.strip().splitlines()[-1])
    assert outcome["nonce"] == [{"name": V1, "kept": False, "key": "deleted"}]
    assert "Kms.Key" in outcome["deleted"]
    assert _nonce(local_aws) is None and STAGING not in _stacks(local_aws)

    applied = deployed("apply", "--yes")
    assert applied.code == 0, applied.text
    assert deployed("verify").code == 0
    assert _nonce(local_aws)["Value"] != kept["Value"]  # a new environment, a new nonce


def test_destroy_tables_say_what_becomes_of_the_nonce_and_its_key(cli, local_aws):
    """Production keeps its key (DeletionPolicy Retain): the nonce stays readable, destroy
    goes ahead and says so, in the tables and in --json."""
    assert cli("bootstrap", "--env", "production").code == 0
    assert cli("apply", "--env", "production", "--yes").code == 0
    local_aws.client("cloudformation").update_termination_protection(
        StackName="mirror-dissonance-production", EnableTerminationProtection=False
    )
    done = cli("destroy", "--env", "production", "--confirm-env", "production", "--json")
    assert done.code == 0, done.text
    row = [
        line for line in done.err.splitlines() if "/guardian/production/redaction_nonce_v1" in line
    ]
    assert len(row) == 1 and "its key is retained (DeletionPolicy Retain)" in row[0]
    outcome = json.loads(done.out.strip().splitlines()[-1])
    assert outcome["nonce"] == [
        {"name": "/guardian/production/redaction_nonce_v1", "kept": True, "key": "retained"}
    ]
    assert _nonce(local_aws, "/guardian/production/redaction_nonce_v1") is not None


def test_plan_foresees_a_kept_nonce_under_a_destroyed_key(deployed, local_aws):
    """A nonce kept under a key that is gone (a destroy by an earlier version, or by hand):
    plan and apply refuse before any change set or upload, in one line; the advice, followed,
    lets the next apply end with a working environment."""
    cfn = local_aws.client("cloudformation")
    cfn.delete_stack(StackName=STAGING)  # as an earlier mirror-infra destroy did
    cfn.get_waiter("stack_delete_complete").wait(StackName=STAGING)
    assert _kept(local_aws)
    for argv in (["plan"], ["apply", "--yes"]):
        refused = deployed(*argv)
        assert refused.code == 1, refused.text
        last = refused.err.strip().splitlines()[-1]
        assert last.startswith(
            f"error: cannot create {STAGING}: the nonce kept from an earlier staging is "
            f"encrypted under a key that can no longer decrypt ({V1} under "
        ), last
        assert ": PendingDeletion), and the application reads every version" in last
        assert STAGING not in _stacks(local_aws)  # no change set, no stack
    advised = re.search(r"delete it with '(mirror-infra [^']+)'", last).group(1)
    assert advised == "mirror-infra destroy --delete-nonce --env staging --local"
    followed = follow_tool(advised, deployed, "--yes")
    assert followed.code == 0, followed.text
    assert not _kept(local_aws)
    assert deployed("plan").code == 2
    assert deployed("apply", "--yes").code == 0
    assert deployed("verify").code == 0


def test_plan_foresees_a_latest_nonce_under_another_key(deployed, local_aws):
    """On an update, finishing refuses a latest version that is not under the environment's
    key; plan says so first (nothing made), and its advice, followed, clears it."""
    ssm, kms = local_aws.client("ssm"), local_aws.client("kms")
    other = kms.create_key(Description="not the environment's key")["KeyMetadata"]["KeyId"]
    v2 = "/guardian/staging/redaction_nonce_v2"
    ssm.put_parameter(Name=v2, Value="ab" * 32, Type="SecureString", KeyId=other)
    cfn = local_aws.client("cloudformation")
    before = cfn.describe_stacks(StackName=STAGING)["Stacks"][0].get("LastUpdatedTime")
    refused = deployed("plan")
    assert refused.code == 1, refused.text
    last = refused.err.strip().splitlines()[-1]
    assert last.startswith(f"error: {v2} is encrypted with {other}, not under the environment's")
    assert last.endswith("to add a version under the current key; nothing was changed")
    assert not cfn.list_change_sets(StackName=STAGING)["Summaries"] or all(
        c["ExecutionStatus"] == "EXECUTE_COMPLETE"
        for c in cfn.list_change_sets(StackName=STAGING)["Summaries"]
    )
    assert cfn.describe_stacks(StackName=STAGING)["Stacks"][0].get("LastUpdatedTime") == before
    advised = re.search(r"run '(mirror-infra [^']+)'", last).group(1)
    assert advised == "mirror-infra rotate-nonce --env staging --local"
    assert follow_tool(advised, deployed, "--yes").code == 0
    assert deployed("plan").code in (0, 2)
    assert deployed("apply", "--yes").code == 0


def test_a_stack_never_created_is_not_destroyed_and_the_way_to_remove_it_works(cli, local_aws):
    """A change set someone made and never executed leaves the stack REVIEW_IN_PROGRESS, with
    no resources (API_CreateChangeSet: "the stack is in the REVIEW_IN_PROGRESS state until you
    execute the change set"). destroy has nothing to delete: one line, exit 1, nothing touched;
    the command it names removes the stack and that change set, and is safe in that state."""
    cfn = local_aws.client("cloudformation")
    handle = {"Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}}
    made = cfn.create_change_set(
        StackName="mirror-dissonance-staging",
        ChangeSetName="someone-elses",
        ChangeSetType="CREATE",
        TemplateBody=json.dumps(handle),
    )
    assert cli("bootstrap").code == 0
    refused = cli("destroy", "--yes", "--delete-nonce")
    assert refused.code == 1, refused.text
    error = refused.err.strip().splitlines()[-1]
    assert error.startswith("error: mirror-dissonance-staging is REVIEW_IN_PROGRESS"), error
    assert "Traceback" not in refused.text
    assert cfn.describe_change_set(ChangeSetName=made["Id"])["ChangeSetName"] == "someone-elses"

    (advice,) = commands(error)
    assert advice.startswith("aws cloudformation delete-stack "), advice
    follow(advice, local_aws)  # as printed: on the local AWS, never a real account
    stacks = cfn.describe_stacks(StackName=made["StackId"])["Stacks"]
    assert stacks[0]["StackStatus"] == "DELETE_COMPLETE"
    assert cli("destroy", "--yes").code == 0  # nothing left to destroy
