"""Run the taskcat project with the real taskcat CLI in its own virtual environment, on AWS or
on the local AWS, and judge each region: stack created, outputs right, stack deleted.

taskcat pins jsonschema<4 and urllib3<2, which conflict with moto 5, so it cannot be imported
here: it runs as a subprocess of `.venv-taskcat/bin/python` through `taskcat_runner.py`, which
records each stack's result as JSON for this module to read.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mirror_infra.config import EnvConfig
from mirror_infra.errors import ConfigError
from mirror_infra.multiregion import outputs as expected_outputs
from mirror_infra.multiregion.project import TaskcatProject, stage
from mirror_infra.multiregion.stylesheet import REPORT_CSS

VENV_VAR = "MIRROR_INFRA_TASKCAT_VENV"
VENV_DIR = ".venv-taskcat"
RUNNER = Path(__file__).with_name("taskcat_runner.py")
REPORT = "index.html"
RESULTS = "results.json"
LOG = "taskcat.log"
STYLESHEET = "taskcat_report.css"
_REPO = Path(__file__).resolve().parents[2]


def taskcat_python() -> Path:
    """The taskcat venv's interpreter: $MIRROR_INFRA_TASKCAT_VENV, ./.venv-taskcat, or the one
    beside this package's source tree."""
    candidates = [Path(os.environ[VENV_VAR])] if os.environ.get(VENV_VAR) else []
    candidates += [Path.cwd() / VENV_DIR, _REPO / VENV_DIR]
    for venv in candidates:
        python = venv / "bin" / "python"
        if python.is_file():
            return python
    raise ConfigError(
        f"no taskcat virtual environment ({VENV_DIR}/bin/python); run 'make setup', which "
        f"installs requirements-taskcat.txt into {VENV_DIR}, or set {VENV_VAR}"
    )


@dataclass(frozen=True)
class RegionResult:
    """One stack of one taskcat test in one region."""

    test: str
    region: str
    stack_name: str
    status: str  # after creation: CREATE_COMPLETE when it worked
    final_status: str  # after clean-up: DELETE_COMPLETE, or the status kept with --keep
    problems: tuple[str, ...]  # output mismatches and error events

    @property
    def passed(self) -> bool:
        return self.status == "CREATE_COMPLETE" and not self.problems


@dataclass
class RunResult:
    taskcat_exit: int
    output_dir: Path
    regions: list[RegionResult] = field(default_factory=list)
    error: str = ""

    @property
    def report(self) -> Path:
        return self.output_dir / REPORT

    @property
    def passed(self) -> bool:
        return (
            self.taskcat_exit == 0
            and not self.error
            and bool(self.regions)
            and all(r.passed for r in self.regions)
        )


@dataclass(frozen=True)
class Settings:
    """Where and how taskcat runs."""

    local_url: str | None  # the local AWS endpoint, or None for the real account
    profile: str | None = None
    keep: bool = False  # leave the stacks (taskcat --no-delete)
    lint: bool = True  # taskcat's own cfn-lint pass


def command(
    project: TaskcatProject,
    root: Path,
    tests: list[str],
    regions: list[str],
    output_dir: Path,
    settings: Settings,
) -> list[str]:
    """The runner's command line: taskcat's own `test run` with its own flags."""
    cmd = [
        str(taskcat_python()),
        "-P",  # the runner's own directory must not shadow taskcat's modules
        str(RUNNER),
        "--results",
        str(output_dir / RESULTS),
        "--stylesheet",
        str(output_dir / STYLESHEET),
    ]
    if settings.local_url:
        cmd.append("--fast-poll")
    cmd.append("--")
    if settings.profile:
        cmd += ["--profile", settings.profile]
    cmd += ["test", "run", "-p", str(root), "-i", project.path.name, "-o", str(output_dir)]
    cmd += ["-t", ",".join(tests), "-r", ",".join(regions)]
    if settings.keep:
        cmd.append("--no-delete")
    if not settings.lint:
        cmd.append("--lint-disable")
    return cmd


def environment(settings: Settings, home: Path, region: str) -> dict[str, str]:
    """The subprocess environment: the local AWS with its fixed credentials and nothing of the
    user's AWS configuration, or the caller's environment for a real account."""
    env = dict(os.environ)
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env["PYTHONUNBUFFERED"] = "1"
    if not settings.local_url:
        return env
    from mirror_infra.aws.target import LOCAL_CREDENTIALS

    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        env.pop(var, None)
    env.update(
        AWS_ENDPOINT_URL=settings.local_url,
        AWS_ACCESS_KEY_ID=LOCAL_CREDENTIALS["aws_access_key_id"],
        AWS_SECRET_ACCESS_KEY=LOCAL_CREDENTIALS["aws_secret_access_key"],
        AWS_DEFAULT_REGION=region,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        # taskcat reads ~/.taskcat.yml and ~/.aws/...; a user's global settings (a fixed bucket,
        # profiles) must not leak into an offline run
        HOME=str(home),
    )
    return env


def run(
    project: TaskcatProject,
    cfgs: dict[str, EnvConfig],
    builds: dict[str, Path],
    regions: list[str] | None,
    output_dir: Path,
    settings: Settings,
    echo: Callable[[str], None] | None = None,
) -> RunResult:
    """Run every test of the environments that taskcat.yml names in `cfgs` and judge each
    region. Each maps to the environment actually deployed (a test run's own, see
    `names.ThrowawayEnv`) and `builds` to its build directory. `echo` receives taskcat's output
    line by line."""
    tests = [t for env in cfgs for t in project.tests_of(env)]
    wanted = list(regions) if regions else list(dict.fromkeys(r for t in tests for r in t.regions))
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / STYLESHEET).write_text(REPORT_CSS, encoding="utf-8")
    for stale in (RESULTS, REPORT):
        (output_dir / stale).unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="mirror-infra-taskcat-") as scratch:
        root = stage(project, builds, Path(scratch) / "project")
        home = Path(scratch) / "home"
        home.mkdir()
        cmd = command(project, root, [t.name for t in tests], wanted, output_dir, settings)
        code = _execute(cmd, environment(settings, home, wanted[0]), output_dir / LOG, echo)
    result = RunResult(code, output_dir)
    judge(result, tests, wanted, cfgs, settings.keep)
    return result


def _execute(cmd: list[str], env: dict[str, str], log: Path, echo) -> int:
    with log.open("w", encoding="utf-8") as sink:
        process = subprocess.Popen(
            cmd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        assert process.stdout is not None
        for line in process.stdout:
            sink.write(line)
            if echo is not None:
                echo(line.rstrip("\n"))
        return process.wait()


def judge(
    result: RunResult,
    tests: list,
    regions: list[str],
    cfgs: dict[str, EnvConfig],
    keep: bool,
) -> None:
    """Turn the runner's record into one result per test and region."""
    try:
        data = json.loads((result.output_dir / RESULTS).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        data = {"stacks": [], "error": "taskcat did not record any result"}
    result.error = data.get("error", "") if result.taskcat_exit else ""
    by_key = {(s["test"], s["region"]): s for s in data.get("stacks", [])}
    for test in tests:
        for region in regions:
            if region not in test.regions:
                continue
            stack = by_key.get((test.name, region))
            if stack is None:
                result.regions.append(
                    RegionResult(test.name, region, "", "NOT_LAUNCHED", "", (_last_error(result),))
                )
                continue
            result.regions.append(_region_result(test, stack, cfgs[test.env], keep))


def _region_result(test, stack: dict, cfg: EnvConfig, keep: bool) -> RegionResult:
    found: list[str] = []
    if stack["status"] == "CREATE_COMPLETE":
        account = expected_outputs.account_of(stack["stack_id"])
        found += expected_outputs.problems(cfg, stack["region"], account, stack["outputs"])
        if not keep and stack.get("final_status") != "DELETE_COMPLETE":
            found.append(f"stack not deleted: {stack.get('final_status') or 'unknown'}")
    else:
        found += stack.get("error_events") or [stack.get("reason") or stack["status"]]
    return RegionResult(
        test.name,
        stack["region"],
        stack["stack_name"],
        stack["status"],
        stack.get("final_status", ""),
        tuple(found),
    )


def _last_error(result: RunResult) -> str:
    """taskcat's last error line, for a region it never launched in."""
    try:
        lines = (result.output_dir / LOG).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return result.error or "taskcat did not run"
    errors = [line for line in lines if "ERROR" in line]
    return (errors[-1] if errors else result.error or "taskcat launched no stack here").strip()
