"""Upgrade tests: deploy a previous version of the environment in every region at once, then plan
and apply the current one there, and report per region what the change set changes and whether
anything would replace or delete data. taskcat only creates stacks; this covers updates.

The previous version is the templates of a git ref (built from that ref's own code and params)
or a saved build directory. Deploying goes through the deployer's library (bootstrap, upload,
plan, apply, finish), exactly as `mirror-infra apply` does.

Every run deploys a throwaway environment of its own (`ut-` and 8 random hex characters, see
`names.ThrowawayEnv`), never the real one: the previous version's templates are retargeted to that
name. Its teardown deletes only the stack and the nonce versions that the run itself created,
each checked before it is deleted.
"""

from __future__ import annotations

import io
import os
import re
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

from mirror_infra.aws.target import Target
from mirror_infra.build import MANIFEST, BuildResult, load_result, nested_file_name, store
from mirror_infra.config import EnvConfig
from mirror_infra.deploy import destroy, flow
from mirror_infra.deploy.changes import Change
from mirror_infra.deploy.context import Deployment
from mirror_infra.deploy.operation import Finished
from mirror_infra.deploy.plan import Plan
from mirror_infra.errors import (
    ApplyFailed,
    ConfigError,
    DeployError,
    DestructiveChangeError,
    MirrorInfraError,
)
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
    cleaned: str = ""  # DELETE_COMPLETE, NOTHING_CREATED, KEPT, or what went wrong
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


def previous_build(
    source: str, env: str, test_env: str, workdir: Path, repo: Path | None = None
) -> BuildResult:
    """The previous version's build of `env` — a saved build directory (build/ or build/{env}/)
    or the templates of a git ref, built with that ref's own code and params — retargeted to
    the test run's environment `test_env`."""
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
        built = load_result(env, workdir / "saved")
    else:
        built = _build_git_ref(source, env, workdir, repo or Path.cwd())
    return retarget(built, env, test_env, workdir / "previous")


def retarget(built: BuildResult, env: str, test_env: str, root: Path) -> BuildResult:
    """`built` with the environment's name replaced by `test_env` wherever it stands as a word
    (resource names, SSM paths, namespaces, tags), written to `root`/build/{test_env}/ with
    fresh content addresses. A previous version's templates name the real environment's
    resources; deployed as they are, an upgrade test would reach them."""
    word = re.compile(rf"(?<![A-Za-z0-9]){re.escape(env)}(?![A-Za-z0-9])")
    nested = {
        logical_id: word.sub(test_env, path.read_text(encoding="utf-8"))
        for logical_id, path in built.nested.items()
    }
    root_body = word.sub(test_env, built.root.read_text(encoding="utf-8"))
    for logical_id, body in nested.items():
        old, new = built.nested[logical_id].name, nested_file_name(logical_id, body)
        root_body = root_body.replace(old, new)
    left = [
        name
        for name, body in [("root", root_body), *nested.items()]
        if re.search(re.escape(env), body, re.IGNORECASE)
    ]
    if left:
        raise ConfigError(
            f"the previous version's templates ({', '.join(left)}) still name {env!r} after "
            f"retargeting them to the test environment {test_env}; an upgrade test would reach "
            "the real environment, so it does not run"
        )
    out = root / "build" / test_env
    return store(out, test_env, f"retargeted from {env}", root_body, nested)


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


@dataclass
class Created:
    """What one upgrade test made in one region: all that its teardown may delete."""

    stack_id: str = ""
    nonce_versions: list[str] = field(default_factory=list)


def _deploy(
    dep: Deployment,
    build: BuildResult,
    allowed: set[str],
    on_event,
    created: Created,
    say: Callable[[str], None] = lambda line: None,
) -> tuple[Plan, Finished | None]:
    """Plan `build` on the region's stack and apply it through the deploy flow (lint, refusal,
    policy restore, finish, the change set deleted when it does not run); (plan, finished or
    None when nothing ran). Records in `created` the stack and nonce versions this call
    brings into being."""
    from mirror_infra.deploy.bootstrap import bootstrap

    bootstrap(dep.target)  # the region's shared artifacts bucket: made once, never deleted here
    plans: list[Plan] = []
    hooks = flow.Hooks(on_event=on_event, say=say, on_plan=plans.append)
    try:
        applied = flow.apply(dep, allowed, hooks, built=build)
    except ApplyFailed as failed:
        return failed.plan, failed.finished
    except DestructiveChangeError:
        if not plans:
            raise
        return plans[0], None  # refused: nothing ran, its change set is deleted
    finally:
        if plans and plans[0].create and plans[0].stack_id:
            created.stack_id = plans[0].stack_id  # the stack its CREATE change set made: ours
    created.nonce_versions += applied.nonce_created
    return applied.plan, applied.finished


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
    say: Callable[[str], None] = lambda line: None,
) -> RegionUpgrade:
    """Deploy `previous`, then plan and apply `current`, in the deployment's region, as the
    test run's own environment; then delete what this call created (unless `keep`)."""
    if dep.cfg.test_run is None:
        raise ConfigError(
            f"an upgrade test runs only in a test run's own environment, not in {dep.cfg.name}"
        )
    result = RegionUpgrade(dep.target.region)
    created = Created()
    try:
        if dep.cfn.stack(dep.stack_name) is not None:
            raise DeployError(
                f"{dep.stack_name} already exists in {dep.target.region}; the upgrade test "
                "leaves it alone (it did not create it)"
            )
        started = time.time()
        _, finished = _deploy(dep, previous, set(), on_event, created, say)
        result.deployed_at = (started, time.time())
        if finished is None or not finished.ok:
            result.previous_status = "NOT_CREATED" if finished is None else finished.status
            result.error = "the previous version did not deploy: " + (
                "empty change set" if finished is None else _failure(finished)
            )
            return result
        result.previous_status = finished.status
        plan, finished = _deploy(dep, current, allowed, on_event, created, say)
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
        info = dep.cfn.stack(dep.stack_name)
        if info is not None and info.status.succeeded:
            result.problems = expected_outputs.problems(
                dep.cfg, dep.target.region, dep.target.account_id, info.outputs
            )
    except (MirrorInfraError, ClientError, BotoCoreError) as exc:
        result.error = " ".join(str(exc).split())
    finally:
        result.cleaned = "KEPT" if keep else teardown(dep, created)
    return result


def teardown(dep: Deployment, created: Created) -> str:
    """Delete what `created` records — the test run's stack (lifting its termination
    protection) and its nonce versions — through destroy, whose consent is this record: the
    library checks that each is still that very thing before it deletes it. Nothing else is
    ever deleted, whatever happened before."""
    if dep.cfg.test_run is None:
        return f"not deleted: {dep.cfg.name} is not a test run's environment"
    if not created.stack_id and not created.nonce_versions:
        return "NOTHING_CREATED"
    proof = destroy.Created(created.stack_id, tuple(created.nonce_versions))
    hooks = destroy.Hooks(consent=lambda deletion: destroy.Answer(created=proof))
    try:
        destroy.run(dep, hooks, delete_nonce=bool(created.nonce_versions))
    except ApplyFailed as failed:
        return f"{failed.finished.status}: {failed.finished.reason}"
    except (MirrorInfraError, ClientError, BotoCoreError) as exc:
        text = " ".join(str(exc).split())
        return text if text.startswith("not deleted") else "not deleted: " + text
    return "DELETE_COMPLETE"


# --- every region ----------------------------------------------------------------------------


def run(
    cfg: EnvConfig,
    regions: list[str],
    previous: BuildResult,
    current: BuildResult,
    local: bool,
    profile: str | None,
    allowed: set[str] = frozenset(),
    keep: bool = False,
    on_event: Callable = lambda region, event: None,
    say: Callable[[str, str], None] = lambda region, line: None,
) -> list[RegionUpgrade]:
    """The upgrade test of the test run's environment `cfg` in every region at the same time;
    results in the order of `regions`."""
    deployments = [Deployment(cfg, Target.resolve(region, local, profile)) for region in regions]
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
            lambda line: say(dep.target.region, line),
        )

    with ThreadPoolExecutor(max_workers=len(deployments)) as pool:
        return list(pool.map(one, deployments))
