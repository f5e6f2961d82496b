"""The taskcat project (`taskcat.yml`) as mirror-infra reads it: which environment each test
deploys, in which regions, and where taskcat puts the templates in S3.

taskcat 0.9.58 uploads the project root to `s3://<bucket>/<project name>/` (taskcat/_s3_sync.py,
prefix = project name) and launches the test's template from
`<project name>/<template path relative to the project root>` (taskcat/_cfn/template.py,
`s3_key`). The nested templates sit beside `throwaway/<env>/root.json`, so the root stack's
ArtifactsPrefix is `<project name>/throwaway/<env>/`.

`throwaway/` exists only in the project that `mirror-infra taskcat` stages, where it holds the
templates of a throwaway environment (SPEC §2: test environments never use a real one's names).
The project root has none, so a plain `taskcat test run` there finds no template instead of
deploying `build/<env>/` under the real environment's names.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from mirror_infra.errors import ConfigError

PROJECT_FILE = "taskcat.yml"
STAGED = "throwaway"  # the staged project's directory of throwaway environments' templates
_TEMPLATE = re.compile(rf"^{STAGED}/(?P<env>[a-z][a-z0-9-]*)/root\.json$")


@dataclass(frozen=True)
class TaskcatTest:
    name: str
    env: str
    template: str  # relative to the project root
    regions: tuple[str, ...]
    parameters: dict[str, str]


@dataclass(frozen=True)
class TaskcatProject:
    path: Path
    name: str
    tests: dict[str, TaskcatTest]
    package_lambda: bool
    regional_buckets: bool

    def artifacts_prefix(self, env: str) -> str:
        """The S3 key prefix under which taskcat puts throwaway/{env}/."""
        return f"{self.name}/{STAGED}/{env}/"

    def tests_of(self, env: str) -> list[TaskcatTest]:
        found = [t for t in self.tests.values() if t.env == env]
        if not found:
            known = ", ".join(sorted({t.env for t in self.tests.values()})) or "none"
            raise ConfigError(
                f"{self.path.name} has no test of {env!r} (it tests: {known}); "
                "README.md, 'Multi-region (taskcat)', says why production is not tested there"
            )
        return found


def load(path: Path) -> TaskcatProject:
    """Read taskcat.yml; a ConfigError names the file, the key and what was expected."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: no taskcat project; run from the project root") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    project = data.get("project") or {}
    name = project.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9-/]+", name):
        raise ConfigError(f"{path}: project.name: expected lower-case letters, digits, '-'")
    regions = tuple(project.get("regions") or ())
    tests: dict[str, TaskcatTest] = {}
    for test_name, test in (data.get("tests") or {}).items():
        test = test or {}
        template = test.get("template", project.get("template", ""))
        match = _TEMPLATE.match(str(template))
        if not match:
            raise ConfigError(
                f"{path}: tests.{test_name}.template: expected {STAGED}/<env>/root.json "
                f"(mirror-infra taskcat stages a throwaway environment there), got {template!r}"
            )
        test_regions = tuple(test.get("regions") or regions)
        if not test_regions:
            raise ConfigError(f"{path}: tests.{test_name}: no regions (project.regions)")
        parameters = {**(project.get("parameters") or {}), **(test.get("parameters") or {})}
        tests[test_name] = TaskcatTest(
            test_name,
            match["env"],
            str(template),
            test_regions,
            {k: str(v) for k, v in parameters.items()},
        )
    return TaskcatProject(
        path=path,
        name=name,
        tests=tests,
        package_lambda=bool(project.get("package_lambda", True)),
        regional_buckets=bool(project.get("s3_regional_buckets", False)),
    )


def stage(project: TaskcatProject, builds: dict[str, Path], into: Path) -> Path:
    """A project root holding only taskcat.yml and throwaway/{env}/ — all that taskcat
    uploads; `builds` maps each environment taskcat.yml names to the build directory (of a
    throwaway environment) staged there."""
    into.mkdir(parents=True, exist_ok=True)
    shutil.copy2(project.path, into / PROJECT_FILE)
    for env, directory in builds.items():
        target = into / STAGED / env
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(directory, target)
    return into
