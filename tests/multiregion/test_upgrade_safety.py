"""The upgrade test never touches a real environment: with staging and production deployed in
the region it tests, holding items, objects, nonce versions and production's protections,
an upgrade test that passes, one that fails, and one whose own stack name is already taken all
leave both environments exactly as they were."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mirror_infra.cli import main
from mirror_infra.names import ThrowawayEnv
from tests.multiregion.test_upgrade import _edit_nested, _saved_build

REGION = "us-east-1"
ACCOUNT = "123456789012"
ENVS = ("staging", "production")


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--local"])
    out, err = capsys.readouterr()
    return code, out, err


def _items(ddb, table: str) -> list[dict]:
    items = ddb.scan(TableName=table)["Items"]
    return sorted(items, key=lambda i: json.dumps(i, sort_keys=True))


def _state(aws, env: str) -> dict:
    """Everything of `env` a person would miss: its stacks, data, nonce and protections."""
    cfn, ddb, s3, ssm = (aws.client(s) for s in ("cloudformation", "dynamodb", "s3", "ssm"))
    root = f"mirror-dissonance-{env}"
    (stack,) = cfn.describe_stacks(StackName=root)["Stacks"]
    nested = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.list_stack_resources(StackName=root)["StackResourceSummaries"]
        if r["ResourceType"] == "AWS::CloudFormation::Stack"
    }
    stacks = {}
    for name, stack_id in {"": stack["StackId"], **nested}.items():
        (described,) = cfn.describe_stacks(StackName=stack_id)["Stacks"]
        stacks[name] = {
            "id": described["StackId"],
            "status": described["StackStatus"],
            "updated": str(described.get("LastUpdatedTime") or described["CreationTime"]),
            "termination_protection": described.get("EnableTerminationProtection", False),
            "policy": cfn.get_stack_policy(StackName=stack_id).get("StackPolicyBody"),
        }
    tables = {
        t: _items(ddb, t) for t in (f"{root}-fp-events", f"{root}-consent", f"{root}-block-counter")
    }
    bucket = f"mirror-{env}-baselines-{ACCOUNT}-{REGION}"
    versions = s3.list_object_versions(Bucket=bucket).get("Versions", [])
    objects = {
        (v["Key"], v["VersionId"]): s3.get_object(
            Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"]
        )["Body"].read()
        for v in versions
    }
    nonces = {
        p["Name"]: (p["Version"], p["Value"])  # compared here only, never printed
        for p in ssm.get_parameters_by_path(
            Path=f"/guardian/{env}", WithDecryption=True, Recursive=True
        )["Parameters"]
    }
    return {"stacks": stacks, "tables": tables, "objects": objects, "nonces": nonces}


@pytest.fixture
def real_envs(project, local_aws, capsys) -> dict[str, dict]:
    """staging and production deployed by the CLI, with data in them; their state."""
    assert _cli(capsys, "bootstrap")[0] == 0
    ddb, s3 = local_aws.client("dynamodb"), local_aws.client("s3")
    for env in ENVS:
        code, _, err = _cli(capsys, "apply", "--env", env, "--yes")
        assert code == 0, err
        assert _cli(capsys, "rotate-nonce", "--env", env, "--yes")[0] == 0  # v1 and v2
        root = f"mirror-dissonance-{env}"
        for n in range(3):
            ddb.put_item(
                TableName=f"{root}-fp-events",
                Item={"pk": {"S": f"rule#r{n}"}, "sk": {"S": f"event#2026#{n}"}},
            )
        ddb.put_item(
            TableName=f"{root}-block-counter",
            Item={"bucketKey": {"S": "r1:o1:2026112806"}, "count": {"N": "4"}},
        )
        bucket = f"mirror-{env}-baselines-{ACCOUNT}-{REGION}"
        for body in (b"baseline v1", b"baseline v2"):
            s3.put_object(Bucket=bucket, Key="rules/r1.json", Body=body)
    states = {env: _state(local_aws, env) for env in ENVS}
    production = states["production"]["stacks"]
    assert production[""]["termination_protection"] is True
    assert production["Dynamodb"]["policy"]  # production's stack policies are in place
    assert len(states["staging"]["nonces"]) == 2
    return states


def _upgrade(capsys, env: str, previous: Path) -> tuple[int, str, str]:
    return _cli(
        capsys,
        "taskcat",
        "--env",
        env,
        "--json",
        "--upgrade-from",
        str(previous),
        "--regions",
        REGION,
    )


def _unchanged(local_aws, before: dict[str, dict]) -> None:
    for env in ENVS:
        assert _state(local_aws, env) == before[env], env


@pytest.mark.parametrize("env", ENVS)
def test_a_passing_upgrade_test_leaves_the_real_environments_alone(
    real_envs, local_aws, tmp_path, capsys, env
):
    previous = _saved_build(Path.cwd(), tmp_path)
    code, out, err = _upgrade(capsys, env, previous / env)
    assert code == 0, err
    data = json.loads(out)
    assert ThrowawayEnv.of(data["environment"]) is ThrowawayEnv.UPGRADE
    (region,) = data["regions"]
    assert region["previous"] == "CREATE_COMPLETE" and region["cleaned"] == "DELETE_COMPLETE"
    _unchanged(local_aws, real_envs)


@pytest.mark.parametrize("env", ENVS)
def test_a_failing_upgrade_test_leaves_the_real_environments_alone(
    real_envs, local_aws, tmp_path, capsys, env
):
    previous = _saved_build(Path.cwd(), tmp_path)
    # the previous version keyed the counter table differently: the current one would replace it
    _edit_nested(previous / env, "dynamodb", '"bucketKey"', '"counterKey"')
    code, out, err = _upgrade(capsys, env, previous / env)
    assert code == 1
    (region,) = json.loads(out)["regions"]
    assert region["status"] == "REFUSED" and region["cleaned"] == "DELETE_COMPLETE"
    _unchanged(local_aws, real_envs)


def test_an_upgrade_test_whose_stack_exists_deletes_nothing(
    real_envs, local_aws, tmp_path, capsys, monkeypatch
):
    """Teardown checks what it deletes: a stack of the test's name that this run did not
    create is left alone, and so is everything else."""
    taken = "ut-0000beef"
    monkeypatch.setattr(ThrowawayEnv, "env_name", lambda self: taken)
    cfn = local_aws.client("cloudformation")
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    other = cfn.create_stack(
        StackName=f"mirror-dissonance-{taken}", TemplateBody=json.dumps(template)
    )["StackId"]
    previous = _saved_build(Path.cwd(), tmp_path)
    code, out, err = _cli(
        capsys,
        "taskcat",
        "--json",
        "--upgrade-from",
        str(previous / "staging"),
        "--regions",
        REGION,
    )
    assert code == 1
    (region,) = json.loads(out)["regions"]
    assert "already exists" in region["error"] and region["cleaned"] == "NOTHING_CREATED"
    (still,) = cfn.describe_stacks(StackName=other)["Stacks"]
    assert still["StackStatus"] == "CREATE_COMPLETE"
    _unchanged(local_aws, real_envs)
