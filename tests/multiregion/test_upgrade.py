"""Upgrade tests on the local AWS: a previous version in every region at once, then the
current one planned and applied, with what changes and whether data is at risk."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from mirror_infra.aws.target import Target
from mirror_infra.build import build, build_test_env, sha256
from mirror_infra.cli import main
from mirror_infra.config import load
from mirror_infra.deploy.context import Deployment
from mirror_infra.envs import params_file
from mirror_infra.multiregion import upgrade
from mirror_infra.names import ThrowawayEnv
from tests.conftest import REPO

REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]


def _saved_build(project: Path, tmp_path: Path, edit: str = "", to: str = "") -> Path:
    """build/ of both environments from the project's params, with `edit` replaced by `to`
    in each params file that has it."""
    old = tmp_path / "previous"
    shutil.copytree(project / "params", old / "params")
    for env in ("staging", "production"):
        params = old / "params" / f"{env}.yaml"
        params.write_text(params.read_text().replace(edit, to) if edit else params.read_text())
        build(env, root=old)
    return old / "build"


def _edit_nested(directory: Path, stem: str, old: str, new: str) -> None:
    """Change a built nested template and keep the build content-addressed (new file name)."""
    (path,) = directory.glob(f"{stem}-*.json")
    body = path.read_text().replace(old, new)
    renamed = f"{stem}-{sha256(body.encode())[:16]}.json"
    (directory / renamed).write_text(body)
    path.unlink()
    for name in ("root.json", "manifest.json"):
        text = (directory / name).read_text()
        (directory / name).write_text(text.replace(path.name, renamed))


def _upgrade(source: Path | str, *extra: str) -> int:
    code = main(["taskcat", "--local", "--json", "--upgrade-from", str(source), *extra])
    return code


def test_upgrade_reports_changes_per_region(project, local_aws, tmp_path, capsys):
    previous = _saved_build(project, tmp_path, "log_retention_days: 30", "log_retention_days: 14")
    code = _upgrade(previous)
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    assert data["environment"].startswith("ut-")
    assert f"as the throwaway environment {data['environment']}" in err
    assert [r["region"] for r in data["regions"]] == REGIONS
    for region in data["regions"]:
        assert region["previous"] == "CREATE_COMPLETE"
        assert region["status"] == "UPDATE_COMPLETE"
        changed = {c["resource"]: c for c in region["changes"]}
        assert changed["Monitoring.AppLogGroup"]["action"] == "Modify"
        assert changed["Monitoring.AppLogGroup"]["risk"] == "safe"
        assert region["destructive"] == [] and region["refused"] == []
        assert region["cleaned"] == "DELETE_COMPLETE"


def test_upgrade_that_replaces_a_table_is_refused(project, local_aws, tmp_path, capsys):
    previous = _saved_build(project, tmp_path)
    # the previous version keyed the counter table differently: the current one replaces it
    _edit_nested(previous / "staging", "dynamodb", '"bucketKey"', '"counterKey"')
    code = _upgrade(previous, "--regions", "us-east-1")
    out, err = capsys.readouterr()
    assert code == 1
    assert "Dynamodb.BlockCounterTable would be replaced, which AWS cannot do" in err
    (region,) = json.loads(out)["regions"]
    assert region["refused"] == ["Dynamodb.BlockCounterTable"]
    assert region["status"] == "REFUSED"


def test_upgrade_from_the_previous_commit(project, local_aws, capsys):
    parent = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--verify", "--quiet", "HEAD~1"],
        capture_output=True,
        check=False,
    )
    if parent.returncode != 0:
        pytest.skip("a shallow clone has no previous commit to upgrade from")
    code = _upgrade("HEAD~1", "--git-repo", str(REPO), "--regions", "us-east-1,eu-west-1")
    out, err = capsys.readouterr()
    assert code == 0, err
    assert all(r["passed"] for r in json.loads(out)["regions"])


def test_all_regions_deploy_at_the_same_time(project, local_aws, tmp_path):
    """Names that are global (IAM roles, S3 buckets, dashboards) carry the region, so nothing
    clashes."""
    cfg = load("staging").for_test_run(ThrowawayEnv.UPGRADE)
    current = build_test_env(cfg, params_file("staging"), tmp_path)
    results = upgrade.run(cfg, REGIONS, current, current, True, None, keep=True)
    assert all(r.passed for r in results), results
    # every region's create ran while every other one did
    assert max(r.deployed_at[0] for r in results) < min(r.deployed_at[1] for r in results)
    iam = local_aws.client("iam")
    roles = {r["RoleName"] for r in iam.list_roles()["Roles"]}
    buckets = {b["Name"] for b in local_aws.client("s3").list_buckets()["Buckets"]}
    for region in REGIONS:
        assert f"mirror-dissonance-{cfg.name}-app-{region}" in roles
        assert f"mirror-{cfg.name}-baselines-123456789012-{region}" in buckets
        dashboards = local_aws.client("cloudwatch", region).list_dashboards()["DashboardEntries"]
        assert f"mirror-dissonance-{cfg.name}-{region}" in {d["DashboardName"] for d in dashboards}


def test_teardown_deletes_only_what_its_run_created(project, local_aws, tmp_path):
    cfg = load("staging").for_test_run(ThrowawayEnv.UPGRADE)
    current = build_test_env(cfg, params_file("staging"), tmp_path)
    (kept,) = upgrade.run(cfg, ["us-east-1"], current, current, True, None, keep=True)
    assert kept.cleaned == "KEPT"
    dep = Deployment(cfg, Target.resolve("us-east-1", True, None))
    # a run that created nothing deletes nothing, though the stack and nonce have its names
    assert upgrade.teardown(dep, upgrade.Created()) == "NOTHING_CREATED"
    assert dep.cfn.stack(dep.stack_name) is not None
    # a record naming another stack is checked, not trusted
    real = Deployment(load("staging"), dep.target)
    assert upgrade.teardown(real, upgrade.Created("anything")).startswith("not deleted")
    info = dep.cfn.stack(dep.stack_name)
    # in the run's own environment too: a record of another stack's id does not delete the
    # stack of the run's name (one it did not create), nor that other stack
    cfn = local_aws.client("cloudformation")
    other = cfn.create_stack(
        StackName="someone-elses-stack",
        TemplateBody=json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}),
    )["StackId"]
    # (the nonce named too: a record without it is refused first, as destroy never keeps a
    # nonce whose key goes with the stack)
    named = upgrade.Created(other, [cfg.names.nonce_parameter(1)])
    assert upgrade.teardown(dep, named) == f"not deleted: {other} is not {dep.stack_name}"
    assert dep.cfn.stack(dep.stack_name).stack_id == info.stack_id
    assert dep.cfn.stack(other) is not None
    nonce = cfg.names.nonce_parameter(1)
    ssm = local_aws.client("ssm")
    ssm.put_parameter(Name=nonce, Value="x" * 64, Type="SecureString", Overwrite=True)
    changed = upgrade.Created(info.stack_id, [nonce])
    assert (
        upgrade.teardown(dep, changed)
        == f"not deleted: {nonce} was changed since this run created it"
    )
    assert ssm.get_parameter(Name=nonce)["Parameter"]["Version"] == 2


def test_a_bad_source_is_one_line(project, local_aws, capsys):
    assert _upgrade("no-such-ref-or-dir") == 1
    err = capsys.readouterr().err
    assert "neither a directory nor a commit" in err and len(err.strip().splitlines()) == 2
