"""`lint`: cfn-lint over the built templates, in-process, with results cached by content.

A template's findings depend only on its bytes, the regions, the ignored rules and cfn-lint's
version, so an unchanged template is not linted twice.

Where the time goes (this 2-core machine, both environments' 12 templates, 3 regions, cProfile
and `python -X importtime`): starting Python and the CLI 0.06 s, importing cfn-lint 0.30-0.34 s
(sympy and networkx most of it), loading its rule set 0.12 s, then 0.03-0.12 s per template,
0.6 s for all 12 in one process, 0.35 s on two when the second core is free. Plain `cfn-lint`
does the same in 1.25-1.75 s, depending on the machine's load. `cfnlint.api.lint_by_config`
(the documented API, one Runner for every template) measured the same as the command line
(1.4-2.9 s under load, interleaved), and `cfnlint.api.lint` without a rule set loads the rules
again for each template (11.8 s). So the rules are loaded once (`Runner(config).rules`) and
handed to `run_template_by_data`, the call `api.lint` makes when it is given rules, and the time
is won around cfn-lint, never by linting less:

- a forked process reads the params (pydantic) and builds the stale environments while this
  one imports cfn-lint, which needs no settings (`Ahead`, `import_cfnlint`); a lint whose
  templates are all cached imports nothing of cfn-lint;
- the collector is kept off the loaded rules: off while they load, frozen from then on, and
  frozen again at exit, where the interpreter's teardown would scan them all (0.2 s);
- the templates are then linted on two forked workers that inherit the loaded rules.

`make bench` measures these against plain `cfn-lint` on the same templates, regions and rules;
a lint-only run (`bench/run.py`, 5 pairs, a quiet hour) read 0.84 s against 1.28 s (0.66x) for a
cold `lint` that builds both environments first, 1.01 s against 1.24 s (0.81x) for `build --all`
then `lint`, 0.83 s against 1.30 s (0.64x) for the built templates without a cache, and 0.16 s
warm; without `Ahead` and the collector's freezes (the build forked while this process loaded
cfn-lint) the same hour read 0.85x, 0.96x and 0.81x.
"""

from __future__ import annotations

import atexit
import gc
import json
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from mirror_infra.build import sha256
from mirror_infra.envs import shown_path
from mirror_infra.errors import ConfigError

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

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
        with _collector_off():
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


def import_cfnlint() -> None:
    """Import cfn-lint (0.3 s of the 0.45 s a rule set takes to load); it needs no settings, so
    a caller can start it before the regions are known."""
    with _collector_off():
        import cfnlint.config
        import cfnlint.runner.cli  # noqa: F401


@contextmanager
def _collector_off() -> Iterator[None]:
    """No collection while cfn-lint builds its many objects (they all live to the end), and
    none just after: every object made with the collector off is still in its youngest
    generation, which the first allocation after `gc.enable` would scan whole (0.08 s); frozen,
    they are out of its way (`lint_files` unfreezes them once it has linted)."""
    _freeze_at_exit()
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
        gc.freeze()
    finally:
        if collecting:
            gc.enable()


def lint_regions(env: str) -> tuple[str, ...]:
    """The regions `env`'s templates are linted in: its own region and its test regions."""
    from mirror_infra.config import load

    cfg = load(env)
    return tuple(sorted({cfg.region, *cfg.test_regions}))


def can_fork() -> bool:
    """Whether this process may fork a helper. fork() copies only the calling thread, so a lock
    another thread holds at that moment stays held in the child for ever ("the child process
    may deadlock", Python's os.fork documentation; 3.12 warns about it). The CLI has one thread
    when it lints; a process that runs others (a test process hosting the local AWS in a
    thread) lints in-process instead, which gives the same findings, only later."""
    return "fork" in multiprocessing.get_all_start_methods() and _threads() == 1


def _threads() -> int:
    """The process's threads as the kernel counts them: `threading` knows only the threads it
    started, not those of `_thread.start_new_thread` or of C code (a pytest-xdist worker's
    execnet threads, seen as a forked lint pool hanging in such a worker)."""
    try:
        return len(os.listdir("/proc/self/task"))  # proc(5): one entry per thread
    except OSError:
        return threading.active_count()


class Ahead:
    """What `lint` needs before it can load the rules, worked out in a forked process while
    this one imports cfn-lint: each environment's regions (reading params takes pydantic, 0.06 s)
    and the stale environments built (`stale`). Whatever fails there (a bad params file, a
    build, the process itself) is redone here, by `regions` and by the caller's `build`, which
    raise the error the user should see; the forked process says nothing."""

    def __init__(self, envs: list[str]) -> None:
        from mirror_infra.build import current

        self.envs = envs
        self.stale = [env for env in envs if not current(env)]
        self._reader: Connection | None = None
        self._child: multiprocessing.process.BaseProcess | None = None
        if can_fork():
            fork = multiprocessing.get_context("fork")
            self._reader, writer = fork.Pipe(duplex=False)
            self._child = fork.Process(
                target=_work_ahead, args=(envs, self.stale, writer), name="mirror-infra-ahead"
            )
            self._child.start()
            writer.close()  # so that the reader sees the end if the child dies without a word

    def regions(self) -> dict[str, tuple[str, ...]]:
        """Each environment's lint regions, from the forked process or (it failed) read here."""
        if self._reader is not None:
            reader, self._reader = self._reader, None
            with reader:
                try:
                    return reader.recv()
                except EOFError:
                    pass
        return {env: lint_regions(env) for env in self.envs}

    def wait(self) -> None:
        """Wait for the builds; the caller's `build` then finds them done, or redoes them."""
        if self._child is not None:
            self._child.join()
            self._child = None

    def __enter__(self) -> Ahead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.wait()  # the forked process never outlives the command, even one that failed


def _work_ahead(envs: list[str], stale: list[str], writer: Connection) -> None:
    from mirror_infra.build import build

    # any failure is met again by the parent, which reports it in one line: silent here, even
    # an interrupt (multiprocessing would print a traceback for it)
    try:
        writer.send({env: lint_regions(env) for env in envs})
        writer.close()
        for env in stale:
            build(env)
    except BaseException:
        os._exit(1)


def cached_anywhere(paths: list[Path], cache_dir: Path) -> bool:
    """Whether every template has findings in the cache under some settings; if not, the rules
    will be needed whatever the regions turn out to be."""
    try:
        cache = json.loads((cache_dir / CACHE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return False
    if not isinstance(cache, dict):
        return False
    linted = {key.rpartition(":")[2] for key in cache}
    return all(sha256(path.read_bytes()) in linted for path in paths)


def _lint_in_worker(path: Path) -> list[Finding]:
    assert _FORKED is not None
    return _FORKED.lint(path)


def lint_files(
    paths: list[Path],
    linter: Linter,
    cache_dir: Path,
    on_unsaved: Callable[[str], None] | None = None,
) -> list[Finding]:
    """Findings for every template (cached by template content; misses linted on every core).
    A cache that cannot be read or written (a read-only build/) changes no finding: lint goes
    on without it, and `on_unsaved` hears one line saying so."""
    with _ONE_AT_A_TIME:
        return _lint_files(paths, linter, cache_dir, on_unsaved or (lambda line: None))


def _lint_files(
    paths: list[Path], linter: Linter, cache_dir: Path, on_unsaved: Callable[[str], None]
) -> list[Finding]:
    cache_path = cache_dir / CACHE_FILE
    try:
        cache = json.loads(cache_path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # missing, unreadable or not ours
        cache = {}
    if not isinstance(cache, dict):
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
        try:
            cache_path.write_text(json.dumps(cache, sort_keys=True), encoding="utf-8")
        except OSError as exc:
            on_unsaved(
                f"warning: {shown_path(cache_path)}: lint results not cached "
                f"({exc.strerror or exc}); the next lint checks every template again — make "
                f"{shown_path(cache_dir)} writable to keep them"
            )
    return [Finding(str(path), *row) for path in paths for row in cache[keys[path]]]


def _lint_todo(todo: list[Path], linter: Linter) -> list[list[Finding]]:
    global _FORKED
    workers = min(len(todo), os.cpu_count() or 1)
    if workers < 2 or not can_fork():
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
