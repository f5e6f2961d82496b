"""`lint`: cfn-lint over the built templates, in-process, with results cached by content.

A template's findings depend only on its bytes, the regions, the ignored rules and cfn-lint's
version, so an unchanged template is not linted twice.

Where the time goes (this 2-core machine, both environments' 12 templates, 3 regions, cProfile
and `python -X importtime`): importing cfn-lint 0.33 s (sympy and networkx most of it), loading
its rule set 0.25 s, then 0.03-0.11 s per template, 0.6 s for all 12; plain `cfn-lint` does the
same in 1.4-1.5 s. `cfnlint.api.lint_by_config` (the documented API, one Runner for every
template) measured the same as the command line (1.4-2.9 s under load, interleaved), and
`cfnlint.api.lint` without a rule set loads the rules again for each template (11.8 s). So the
rules are loaded once (`Runner(config).rules`) and handed to `run_template_by_data`, the call
`api.lint` makes when it is given rules, and the time is won around cfn-lint, never by linting
less:

- a cold `lint` builds the stale environments in a forked process while this one imports
  cfn-lint and loads its rules (`build_ahead`);
- the templates are then linted on two forked workers that inherit the loaded rules.

`make bench` measures both against plain `cfn-lint` on the same templates, regions and rules.
"""

from __future__ import annotations

import atexit
import gc
import json
import multiprocessing
import os
import threading
from collections.abc import Callable
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
        _freeze_at_exit()
        # no collection while cfn-lint builds its many objects: they all live to the end
        collecting = gc.isenabled()
        gc.disable()
        try:
            from cfnlint.config import ConfigMixIn
            from cfnlint.runner.cli import Runner

            self._config = ConfigMixIn(regions=self.regions, ignore_checks=self.ignore)
            self._rules = Runner(self._config).rules
            # and none just after: every object made with the collector off is still in its
            # youngest generation, which the first allocation after `gc.enable` would scan
            # whole (0.08 s); frozen, they are out of its way (`lint_files` unfreezes)
            gc.freeze()
        finally:
            if collecting:
                gc.enable()

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


_FREEZING_AT_EXIT = False


def _freeze_at_exit() -> None:
    """Once the rules are loaded, keep the collector off the whole heap when the process ends.

    At exit the interpreter collects again and again while it tears its modules down; with
    cfn-lint's rule set and schemas loaded that is 0.2 s spent freeing memory the OS is about to
    take back. Frozen (atexit runs before that teardown), those objects are not scanned; objects
    freed by reference count still run their finalizers, and Python never promised `__del__` for
    what is left at exit."""
    global _FREEZING_AT_EXIT
    if not _FREEZING_AT_EXIT:
        _FREEZING_AT_EXIT = True
        atexit.register(gc.freeze)


_FORKED: Linter | None = None  # the parent's loaded linter, inherited by forked workers
# one lint at a time per process: the upgrade tests deploy every region in its own thread, and
# the forked workers' global and the cache file must not be shared between two runs at once
_ONE_AT_A_TIME = threading.Lock()


def build_ahead(envs: list[str]) -> Callable[[], None] | None:
    """Build the stale ones of `envs` in a forked process, so that the caller can load cfn-lint
    meanwhile; returns the function that waits for it, or None when nothing is stale. The
    caller then calls `build` as usual: it finds the build done, or (the child failed) fails
    with the error the user should see."""
    from mirror_infra.build import build, current

    stale = [env for env in envs if not current(env)]
    if not stale or "fork" not in multiprocessing.get_all_start_methods():
        return None

    def work() -> None:
        for env in stale:
            build(env)

    child = multiprocessing.get_context("fork").Process(target=work, name="mirror-infra-build")
    child.start()
    return child.join


def _lint_in_worker(path: Path) -> list[Finding]:
    assert _FORKED is not None
    return _FORKED.lint(path)


def lint_files(paths: list[Path], linter: Linter, cache_dir: Path) -> list[Finding]:
    """Findings for every template (cached by template content; misses linted on every core)."""
    with _ONE_AT_A_TIME:
        return _lint_files(paths, linter, cache_dir)


def _lint_files(paths: list[Path], linter: Linter, cache_dir: Path) -> list[Finding]:
    cache_path = cache_dir / CACHE_FILE
    try:
        cache = json.loads(cache_path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        cache = {}
    keys = {path: f"{linter.key}:{sha256(path.read_bytes())}" for path in paths}
    todo = [path for path in paths if keys[path] not in cache]
    if todo:
        linter.load()
        # the rules and schemas just loaded live to the end: frozen, the collector stops
        # scanning them again and again while the templates are linted (12 templates: 0.87 s
        # -> 0.62 s here), and forked workers do not copy the pages it would touch (the
        # `gc.freeze` documentation)
        gc.freeze()
        try:
            results = _lint_todo(todo, linter)
        finally:
            gc.unfreeze()
        for path, found in zip(todo, results, strict=True):
            cache[keys[path]] = [[f.line, f.rule, f.level, f.message] for f in found]
        # keep only what a template still in build/ could ask for, so the cache does not grow
        alive = {sha256(p.read_bytes()) for p in cache_dir.glob("*/*.json")}
        cache = {k: v for k, v in cache.items() if k.rpartition(":")[2] in alive}
        cache_path.write_text(json.dumps(cache, sort_keys=True), encoding="utf-8")
    return [Finding(str(path), *row) for path in paths for row in cache[keys[path]]]


def _lint_todo(todo: list[Path], linter: Linter) -> list[list[Finding]]:
    global _FORKED
    workers = min(len(todo), os.cpu_count() or 1)
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [linter.lint(path) for path in todo]
    # forked workers share the loaded rule set instead of loading it again
    _FORKED = linter
    try:
        # largest first, so the two cores finish together rather than one waiting
        order = sorted(todo, key=lambda p: p.stat().st_size, reverse=True)
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            found = pool.map(_lint_in_worker, order, chunksize=1)
    finally:
        _FORKED = None
    by_path = dict(zip(order, found, strict=True))
    return [by_path[path] for path in todo]
