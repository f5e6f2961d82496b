"""Upgrade tests: deploy a previous version of the environment in every region at once, then plan
and apply the current one there, and report per region what the change set changes and whether
anything would replace or delete data. taskcat only creates stacks; this covers updates.

The previous version is the templates of a git ref (built from that ref's own code and params)
or a saved build directory. Deploying goes through the deployer's library (bootstrap, upload,
plan, apply, finish), exactly as `mirror-infra apply` does.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from mirror_infra.build import MANIFEST, BuildResult, load_result
from mirror_infra.deploy import apply as applying
from mirror_infra.deploy import stacks
from mirror_infra.deploy.context import Deployment
from mirror_infra.deploy.plan import Change, Plan, create_plan, discard
from mirror_infra.errors import ConfigError, DeployError, MirrorInfraError
from mirror_infra.multiregion import outputs as expected_outputs


@dataclass
class RegionUpgrade:
    """What happened in one region."""

    region: str
    previous_status: str = ""  # CREATE_COMPLETE when the previous version deployed
    changes: list[Change] = field(default_factory=list)
    refused: list[Change] = field(default_factory=list)  # destructive and not allowed
    status: str = ""  # UPDATE_COMPLETE, NO_CHANGES, or how the update ended
    problems: list[str] = field(default_factory=list)  # outputs wrong after the upgrade
    error: str = ""
    cleaned: str = ""  # DELETE_COMPLETE, KEPT, or what went wrong
    deployed_at: tuple[float, float] = (0.0, 0.0)  # the previous version's create, start/end

    @property
    def destructive(self) -> list[Change]:
        return [c for c in self.changes if c.risk.value != "safe"]

    @property
    def passed(self) -> bool:
        return (
            not self.error
            and not self.problems
            and not self.refused
            and self.status in ("UPDATE_COMPLETE", "NO_CHANGES")
        )


# --- the previous version ------------------------------------------------------------------


def previous_build(source: str, env: str, workdir: Path, repo: Path | None = None) -> BuildResult:
    """The previous version's build of `env`: a saved build directory (build/ or build/{env}/)
    or the templates of a git ref, built with that ref's own code and params."""
    path = Path(source)
    if path.is_dir():
        found = path / env if (path / env / MANIFEST).is_file() else path
        if not (found / MANIFEST).is_file():
            raise ConfigError(
                f"--upgrade-from {source}: no {MANIFEST} in {found}; pass a directory written "
                f"by 'mirror-infra build' (build/ or build/{env}/) or a git ref"
            )
        target = workdir / "saved" / "build" / env
        shutil.copytree(found, target)
        return load_result(env, workdir / "saved")
    return _build_git_ref(source, env, workdir, repo or Path.cwd())


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)


def _build_git_ref(ref: str, env: str, workdir: Path, repo: Path) -> BuildResult:
    found = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if found.returncode != 0:
        raise ConfigError(
            f"--upgrade-from {ref}: neither a directory nor a commit of the git repository at "
            f"{repo}; pass a saved build directory or a ref such as HEAD~1"
        )
    commit = found.stdout.decode().strip()
    archive = _git(repo, "archive", "--format=tar", commit)
    if archive.returncode != 0:
        raise ConfigError(f"git archive {commit[:12]} failed: {archive.stderr.decode().strip()}")
    src = workdir / f"src-{commit[:12]}"
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(src, filter="data")
    # the ref's own mirror_infra and templates_src (first on the path) render its templates
    env_vars = {**os.environ, "PYTHONPATH": str(src)}
    script = "import sys; from mirror_infra.cli import main; sys.exit(main(sys.argv[1:]))"
    built = subprocess.run(
        [sys.executable, "-c", script, "build", "--env", env, "--force"],
        cwd=src,
        env=env_vars,
        capture_output=True,
        text=True,
        check=False,
    )
    if built.returncode != 0:
        last = (built.stderr.strip().splitlines() or ["no output"])[-1]
        raise ConfigError(f"building {env} at {ref} ({commit[:12]}) failed: {last}")
    return load_result(env, src)


# --- one region ------------------------------------------------------------------------------


def _deploy(dep: Deployment, build: BuildResult, allowed: set[str], on_event) -> tuple:
    """Plan `build` on the region's stack and apply it; (plan, finished or None)."""
    from mirror_infra.deploy.bootstrap import bootstrap
    from mirror_infra.deploy.package import upload_nested

    bucket = bootstrap(dep.target).bucket
    upload_nested(dep.target.client("s3"), bucket, dep.artifacts_prefix, build)
    plan: Plan = create_plan(dep, build, bucket)
    if not plan.has_changes or plan.refused(allowed):
        discard(dep, plan)
        return plan, None
    execution = applying.start(dep, plan, allowed)
    finished = execution.follow(on_event)
    if finished.ok:
        applying.finish(dep)
    return plan, finished


def _failure(finished) -> str:
    cause = finished.root_cause
    where = f" ({cause.qualified_id} {cause.status}: {cause.reason})" if cause else ""
    return f"{finished.status}{where}"


def upgrade_region(
    dep: Deployment,
    previous: BuildResult,
    current: BuildResult,
    allowed: set[str],
    keep: bool,
    on_event: Callable = lambda event: None,
) -> RegionUpgrade:
    """Deploy `previous`, then plan and apply `current`, in the deployment's region."""
    result = RegionUpgrade(dep.target.region)
    try:
        if stacks.describe(dep.cfn, dep.stack_name) is not None:
            raise DeployError(
                f"{dep.stack_name} already exists in {dep.target.region}; an upgrade test "
                "deploys the previous version itself: destroy it first or pick other --regions"
            )
        started = time.time()
        _, finished = _deploy(dep, previous, set(), on_event)
        result.deployed_at = (started, time.time())
        if finished is None or not finished.ok:
            result.previous_status = "NOT_CREATED" if finished is None else finished.status
            result.error = "the previous version did not deploy: " + (
                "empty change set" if finished is None else _failure(finished)
            )
            return result
        result.previous_status = finished.status
        plan, finished = _deploy(dep, current, allowed, on_event)
        result.changes = list(plan.changes)
        result.refused = plan.refused(allowed)
        if result.refused:
            result.status = "REFUSED"
        elif finished is None:
            result.status = "NO_CHANGES"
        else:
            result.status = finished.status
            if not finished.ok:
                result.error = "the current version did not apply: " + _failure(finished)
        info = stacks.describe(dep.cfn, dep.stack_name)
        if info is not None and info.status.succeeded:
            result.problems = expected_outputs.problems(
                dep.cfg, dep.target.region, dep.target.account_id, info.outputs
            )
    except (MirrorInfraError, ClientError, BotoCoreError) as exc:
        result.error = " ".join(str(exc).split())
    finally:
        result.cleaned = "KEPT" if keep else teardown(dep)
    return result


def teardown(dep: Deployment) -> str:
    """Delete the region's stack (lifting termination protection) and its nonce versions."""
    from mirror_infra.deploy.destroy import delete_nonce
    from mirror_infra.deploy.protection import set_termination_protection

    try:
        info = stacks.describe(dep.cfn, dep.stack_name)
        if info is not None:
            if info.termination_protection:
                set_termination_protection(dep.cfn, info.stack_id, False)
            execution = applying.Execution(dep, info.stack_id)
            dep.cfn.delete_stack(StackName=info.stack_id)
            finished = execution.follow(lambda event: None)
            if finished.status.value != "DELETE_COMPLETE":
                return f"{finished.status}: {finished.reason}"
        delete_nonce(dep)
        return "DELETE_COMPLETE"
    except (MirrorInfraError, ClientError, BotoCoreError) as exc:
        return "not deleted: " + " ".join(str(exc).split())


# --- every region ----------------------------------------------------------------------------


def run(
    env: str,
    regions: list[str],
    previous: BuildResult,
    current: BuildResult,
    local: bool,
    profile: str | None,
    allowed: set[str] = frozenset(),
    keep: bool = False,
    on_event: Callable = lambda region, event: None,
) -> list[RegionUpgrade]:
    """The upgrade test in every region at the same time; results in the order of `regions`."""
    deployments = [Deployment.open(env, region, local, profile) for region in regions]
    for dep in deployments:
        dep.target.account_id  # noqa: B018 - fail once, clearly, before any thread starts

    def one(dep: Deployment) -> RegionUpgrade:
        return upgrade_region(
            dep,
            previous,
            current,
            set(allowed),
            keep,
            lambda event: on_event(dep.target.region, event),
        )

    with ThreadPoolExecutor(max_workers=len(deployments)) as pool:
        return list(pool.map(one, deployments))
