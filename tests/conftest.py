"""Shared fixtures: a scratch project root with the real params, and built templates."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest_plugins = ["tests.localaws_fixtures"]

REPO = Path(__file__).resolve().parents[1]
ENVS = ("staging", "production")

# never let a test reach a real AWS endpoint or the instance-metadata address
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
for _var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
    os.environ.pop(_var, None)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/ from the current templates instead of comparing",
    )


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch copy of the project's params and lint config, as the working directory."""
    shutil.copytree(REPO / "params", tmp_path / "params")
    shutil.copy(REPO / ".cfnlintrc.yaml", tmp_path / ".cfnlintrc.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def lint_seed(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The lint cache a developer's build/ holds once `lint` has run: the real cfn-lint's
    results for both environments' templates as params/ builds them, made once per test
    process. Findings are cached by template content, so a test that changes a template is
    linted afresh; the rest skip a lint that would only repeat these results (about a second
    a project)."""
    from mirror_infra.build import build
    from mirror_infra.lint import CACHE_FILE, Linter, ignored_rules, lint_files, lint_regions

    root = tmp_path_factory.mktemp("lint-seed")
    shutil.copytree(REPO / "params", root / "params")
    shutil.copy(REPO / ".cfnlintrc.yaml", root / ".cfnlintrc.yaml")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        results = {env: build(env, root=root) for env in ENVS}
        for env, result in results.items():
            linter = Linter(list(lint_regions(env)), ignored_rules())
            assert lint_files(result.files, linter, result.directory.parent) == []
    return (root / "build" / CACHE_FILE).read_text()


def seed_lint_cache(project: Path, seed: str) -> None:
    """Give a scratch project the lint results of its unchanged templates (see `lint_seed`)."""
    from mirror_infra.lint import CACHE_FILE

    (project / "build").mkdir(exist_ok=True)
    (project / "build" / CACHE_FILE).write_text(seed)


@pytest.fixture
def linted_project(project: Path, lint_seed: str) -> Path:
    """`project`, with the lint results of its unchanged templates already in build/."""
    seed_lint_cache(project, lint_seed)
    return project


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict]]:
    """Both environments built once: env -> nested logical id (or 'Root') -> template dict."""
    from mirror_infra.build import build

    root = tmp_path_factory.mktemp("built")
    shutil.copytree(REPO / "params", root / "params")
    result: dict[str, dict[str, dict]] = {}
    for env in ENVS:
        b = build(env, root=root)
        templates = {"Root": json.loads(b.root.read_text())}
        templates.update({k: json.loads(p.read_text()) for k, p in b.nested.items()})
        result[env] = templates
    return result


@dataclass
class CliResult:
    """What one in-process `mirror-infra` run returned and printed."""

    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err

    @property
    def json(self) -> dict:
        return json.loads(self.out)


def resources(template: dict, type_: str | None = None) -> dict[str, dict]:
    """The template's resources, optionally only those of one type."""
    return {
        name: r
        for name, r in template.get("Resources", {}).items()
        if type_ is None or r["Type"] == type_
    }


def all_resources(built_env: dict[str, dict], type_: str | None = None) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for stack, template in built_env.items():
        for name, r in resources(template, type_).items():
            found[f"{stack}.{name}"] = r
    return found
