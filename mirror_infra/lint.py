"""`lint`: cfn-lint over the built templates, in-process, with results cached by content.

A template's findings depend only on its bytes, the regions, the ignored rules and cfn-lint's
version, so an unchanged template is not linted twice.

Why not `cfnlint.api.lint` alone: without a rule set it loads every rule again for each
template. Measured on this 2-core machine (both environments' 12 templates, 3 regions):
`api.lint` per template 11.8 s after a 0.7 s import, against 3.4 s for the whole `mirror-infra
lint` here, which loads the rules once (`Runner(config).rules`) and hands them to
`run_template_by_data` — the same call `api.lint` makes when it is given rules — on two forked
workers.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import yaml

from mirror_infra.build import sha256
from mirror_infra.errors import ConfigError

CONFIG_FILE = ".cfnlintrc.yaml"
CACHE_FILE = ".lint-cache.json"


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    rule: str
    level: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.rule} ({self.level}) {self.message}"


def ignored_rules(root: Path | None = None) -> list[str]:
    path = (root or Path.cwd()) / CONFIG_FILE
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    checks = data.get("ignore_checks", [])
    if not isinstance(checks, list) or not all(isinstance(c, str) for c in checks):
        raise ConfigError(f"{CONFIG_FILE}: ignore_checks: expected a list of rule ids like W3005")
    return checks


class Linter:
    """One loaded rule set, reused for every template (loading it is the slow part)."""

    def __init__(self, regions: list[str], ignore: list[str]) -> None:
        self.regions = sorted(set(regions))
        self.ignore = sorted(ignore)
        self._rules = None
        self._config = None
        self.key = sha256(
            json.dumps([metadata.version("cfn-lint"), self.regions, self.ignore]).encode()
        )

    def load(self) -> None:
        if self._rules is not None:
            return
        from cfnlint.config import ConfigMixIn
        from cfnlint.runner.cli import Runner

        self._config = ConfigMixIn(regions=self.regions, ignore_checks=self.ignore)
        self._rules = Runner(self._config).rules

    def lint(self, path: Path) -> list[Finding]:
        from cfnlint.decode.decode import decode_str
        from cfnlint.runner.template.runner import run_template_by_data

        self.load()
        template, errors = decode_str(path.read_text(encoding="utf-8"))
        matches = errors if errors else run_template_by_data(template, self._config, self._rules)
        return [
            Finding(
                str(path),
                m.linenumber,
                m.rule.id,
                m.rule.severity if hasattr(m.rule, "severity") else "error",
                m.message,
            )
            for m in matches
        ]


_FORKED: Linter | None = None  # the parent's loaded linter, inherited by forked workers
# one lint at a time per process: the upgrade tests deploy every region in its own thread, and
# the forked workers' global and the cache file must not be shared between two runs at once
_ONE_AT_A_TIME = threading.Lock()


def _lint_in_worker(path: Path) -> list[Finding]:
    assert _FORKED is not None
    return _FORKED.lint(path)


def lint_files(paths: list[Path], linter: Linter, cache_dir: Path) -> list[Finding]:
    """Findings for every template (cached by template content; misses linted on every core)."""
    with _ONE_AT_A_TIME:
        return _lint_files(paths, linter, cache_dir)


def _lint_files(paths: list[Path], linter: Linter, cache_dir: Path) -> list[Finding]:
    global _FORKED
    cache_path = cache_dir / CACHE_FILE
    try:
        cache = json.loads(cache_path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        cache = {}
    keys = {path: f"{linter.key}:{sha256(path.read_bytes())}" for path in paths}
    todo = [path for path in paths if keys[path] not in cache]
    if todo:
        linter.load()
        workers = min(len(todo), os.cpu_count() or 1)
        if workers > 1 and "fork" in multiprocessing.get_all_start_methods():
            # forked workers share the loaded rule set instead of loading it again
            _FORKED = linter
            # largest first, so the two cores finish together rather than one waiting
            order = sorted(todo, key=lambda p: p.stat().st_size, reverse=True)
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                by_path = dict(
                    zip(order, pool.map(_lint_in_worker, order, chunksize=1), strict=True)
                )
            results = [by_path[path] for path in todo]
            _FORKED = None
        else:
            results = [linter.lint(path) for path in todo]
        for path, found in zip(todo, results, strict=True):
            cache[keys[path]] = [[f.line, f.rule, f.level, f.message] for f in found]
        # keep only what a template still in build/ could ask for, so the cache does not grow
        alive = {sha256(p.read_bytes()) for p in cache_dir.glob("*/*.json")}
        cache = {k: v for k, v in cache.items() if k.rpartition(":")[2] in alive}
        cache_path.write_text(json.dumps(cache, sort_keys=True), encoding="utf-8")
    return [Finding(str(path), *row) for path in paths for row in cache[keys[path]]]
