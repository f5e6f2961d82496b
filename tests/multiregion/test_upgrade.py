"""Upgrade tests on the local AWS: a previous version in every region at once, then the
current one planned and applied, with what changes and whether data is at risk."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from mirror_infra.build import build, sha256
from mirror_infra.cli import main
from mirror_infra.deploy.context import Deployment
from mirror_infra.multiregion import upgrade
from tests.conftest import REPO

REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]


def _saved_build(project: Path, tmp_path: Path, edit: str, to: str) -> Path:
    """build/ of the project's params with one line of params/staging.yaml changed."""
    old = tmp_path / "previous"
    shutil.copytree(project / "params", old / "params")
    params = old / "params" / "staging.yaml"
    text = params.read_text()
    assert edit in text
    params.write_text(text.replace(edit, to))
    build("staging", root=old)
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
    previous = _saved_build(project, tmp_path, "log_retention_days: 30", "log_retention_days: 30")
    # the previous version keyed the counter table differently: the current one replaces it
    _edit_nested(previous / "staging", "dynamodb", '"bucketKey"', '"counterKey"')
    code = _upgrade(previous, "--regions", "us-east-1")
    out, err = capsys.readouterr()
    assert code == 1
    assert "--allow-replace BlockCounterTable" in err
    (region,) = json.loads(out)["regions"]
    assert region["refused"] == ["Dynamodb.BlockCounterTable"]
    assert region["status"] == "REFUSED"


def test_upgrade_from_the_previous_commit(project, local_aws, capsys):
    parent = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--verify", "--quiet", "HEAD~1"],
        capture_output=True,
        check=False,
    )
    ref = "HEAD~1" if parent.returncode == 0 else "HEAD"
    code = _upgrade(ref, "--git-repo", str(REPO), "--regions", "us-east-1,eu-west-1")
    out, err = capsys.readouterr()
    assert code == 0, err
    assert all(r["passed"] for r in json.loads(out)["regions"])


def test_all_regions_deploy_at_the_same_time(project, local_aws, tmp_path):
    """Names that are global (IAM roles, S3 buckets) carry the region, so nothing clashes."""
    current = build("staging")
    results = upgrade.run("staging", REGIONS, current, current, True, None, keep=True)
    assert all(r.passed for r in results), results
    # every region's create ran while every other one did
    assert max(r.deployed_at[0] for r in results) < min(r.deployed_at[1] for r in results)
    iam = local_aws.client("iam")
    roles = {r["RoleName"] for r in iam.list_roles()["Roles"]}
    buckets = {b["Name"] for b in local_aws.client("s3").list_buckets()["Buckets"]}
    for region in REGIONS:
        dep = Deployment.open("staging", region, True, None)
        assert dep.names.app_role(region) in roles
        assert dep.names.baselines_bucket(dep.target.account_id, region) in buckets
        assert upgrade.teardown(dep) == "DELETE_COMPLETE"


def test_a_bad_source_is_one_line(project, local_aws, capsys):
    assert _upgrade("no-such-ref-or-dir") == 1
    err = capsys.readouterr().err
    assert "neither a directory nor a commit" in err and len(err.strip().splitlines()) == 2
