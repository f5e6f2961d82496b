"""`build`: render the environment's templates into `build/{env}/`, byte-identical every run.

Nested templates are content-addressed (`kms-<sha>.json`), so an unchanged service keeps its
TemplateURL and a deploy never touches it. A rebuild whose inputs have not changed is skipped.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from mirror_infra import __version__
from mirror_infra.errors import BuildError

if TYPE_CHECKING:  # the no-op rebuild does not import pydantic
    from mirror_infra.config import EnvConfig

ROOT_FILE = "root.json"
MANIFEST = "manifest.json"
_PACKAGE_DIR = Path(__file__).resolve().parent
_TEMPLATES_DIR = _PACKAGE_DIR.parent / "templates_src"
# the code whose bytes decide the templates' bytes
_SOURCES = ("config.py", "names.py", "contract.py", "build.py")


@dataclass(frozen=True)
class BuildResult:
    env: str
    directory: Path
    root: Path
    nested: dict[str, Path]  # nested stack logical id -> file
    skipped: bool  # True when the inputs were unchanged and nothing was written

    @property
    def files(self) -> list[Path]:
        return [self.root, *self.nested.values()]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def serialise(template) -> str:
    """The one serialisation every built template uses: sorted keys, two-space indent."""
    return template.to_json(indent=2, sort_keys=True) + "\n"


def fingerprint(params_file: Path, env: str) -> str:
    """A hash of everything a build reads: environment name, params, template code, library
    versions."""
    digest = hashlib.sha256()
    digest.update(f"mirror-infra {__version__}\nenv {env}\n".encode())
    for lib in ("troposphere", "awacs"):
        digest.update(f"{lib} {metadata.version(lib)}\n".encode())
    sources = [params_file, *(_PACKAGE_DIR / s for s in _SOURCES)]
    sources += sorted(_TEMPLATES_DIR.glob("*.py"))
    for path in sources:
        try:
            data = path.read_bytes()
        except OSError as exc:
            from mirror_infra.envs import unreadable

            raise unreadable(path, exc) from None
        digest.update(path.name.encode() + b"\0" + data + b"\0")
    return digest.hexdigest()


def build_dir(env: str, root: Path | None = None) -> Path:
    return (root or Path.cwd()) / "build" / env


def build(env: str, root: Path | None = None, force: bool = False) -> BuildResult:
    """Build `env` unless its inputs are unchanged since the last build."""
    from mirror_infra.envs import params_file

    params = params_file(env, root)
    out = build_dir(env, root)
    stamp = fingerprint(params, env)
    if not force:
        cached = _cached(out, stamp)
        if cached is not None:
            return cached
    from mirror_infra.config import load

    return _write(load(env, root), out, stamp)


def current(env: str, root: Path | None = None) -> bool:
    """Whether `build(env)` would find everything built already and write nothing."""
    from mirror_infra.envs import params_file

    return _cached(build_dir(env, root), fingerprint(params_file(env, root), env)) is not None


def build_test_env(cfg: EnvConfig, params: Path, root: Path) -> BuildResult:
    """Build a test run's environment (`cfg`, derived from the real one whose params file is
    `params`) into `root`/build/{cfg.name}/."""
    return _write(cfg, build_dir(cfg.name, root), fingerprint(params, cfg.name))


def build_from(cfg: EnvConfig, out: Path) -> BuildResult:
    """Build `cfg` as it is (derived settings, not a params file's) into `out`."""
    return _write(cfg, out, f"derived from {cfg.name}")


def load_result(env: str, root: Path | None = None) -> BuildResult:
    """The last build of `env`, or a BuildError saying to run `build`."""
    out = build_dir(env, root)
    manifest = _read_manifest(out)
    if manifest is None:
        raise BuildError(f"{out}: no build found; run 'mirror-infra build --env {env}' first")
    result = _result_from(out, manifest, skipped=True)
    if result is None:
        raise BuildError(f"{out}: build is incomplete; run 'mirror-infra build --env {env}' again")
    return result


def _root_module():
    try:
        from templates_src import root as root_module
    except Exception as exc:  # a missing or broken module: any error its import raises
        raise BuildError(
            f"templates_src cannot be imported ({type(exc).__name__}: {exc}); run from the "
            "project root of an intact checkout"
        ) from None
    return root_module


def service_ids() -> list[str]:
    """The root's nested stacks, one per service, in the root template's order."""
    return list(_root_module().SERVICES)


def _write(cfg: EnvConfig, out: Path, stamp: str) -> BuildResult:
    root_module = _root_module()
    nested = {logical_id: _rendered(make, cfg) for logical_id, make in root_module.SERVICES.items()}
    names = {logical_id: nested_file_name(logical_id, body) for logical_id, body in nested.items()}
    root_body = _rendered(root_module.template, cfg, names)
    return store(out, cfg.name, stamp, root_body, nested)


# what troposphere raises for a value, type or property it refuses (its validators included)
_REFUSALS = (ValueError, TypeError, AttributeError, KeyError)
# troposphere writes this to stderr before re-raising a validator's exception
_VALIDATOR_LINE = re.compile(r": (\S+) function validator '(\w+)' threw exception")


def _rendered(make, *args) -> str:
    """One template rendered; what troposphere refuses in templates_src/ is one BuildError
    naming the file and line that set it, never a traceback."""
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said):
            body = serialise(make(*args))
    except _REFUSALS as exc:
        raise BuildError(_refusal(exc, make, said.getvalue())) from None
    sys.stderr.write(said.getvalue())  # anything else said while building is passed on
    return body


def _refusal(exc: Exception, make, said: str) -> str:
    """'templates_src/kms.py line 104: troposphere refuses Key.KeyUsage (...)': the deepest
    frame in templates_src/, or the module of `make` when the refusal came at rendering."""
    import traceback

    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if Path(f.filename).resolve().parent == _TEMPLATES_DIR
    ]
    if frames:
        where = f"templates_src/{Path(frames[-1].filename).name} line {frames[-1].lineno}"
    else:
        where = f"templates_src/{make.__module__.rpartition('.')[2]}.py"
    validator = _VALIDATOR_LINE.search(said)
    what = f" {validator.group(1)}" if validator else ""
    text = " ".join(str(exc).split())
    if not text:
        text = f"its validator {validator.group(2)} refused the value" if validator else "no reason"
    return (
        f"{where}: troposphere refuses{what} ({type(exc).__name__}: {text}); "
        "correct it there and run the command again"
    )


def dump(template: dict) -> str:
    """A template held as data, serialised as `serialise` serialises built ones."""
    return json.dumps(template, indent=2, sort_keys=True) + "\n"


def write_nested(into: Path, logical_id: str, template: dict) -> Path:
    """A nested template derived from a build (deployed in place of the built one), written
    into `into` under its content address, as build names its own."""
    body = dump(template)
    into.mkdir(parents=True, exist_ok=True)
    path = into / nested_file_name(logical_id, body)
    path.write_text(body, encoding="utf-8")
    return path


def nested_file_name(logical_id: str, body: str) -> str:
    """A nested template's content address: an unchanged service keeps its TemplateURL."""
    return f"{logical_id.lower()}-{sha256(body.encode())[:16]}.json"


def store(out: Path, env: str, stamp: str, root_body: str, nested: dict[str, str]) -> BuildResult:
    """Write a build: the root, each nested template under its content address (`root_body`
    refers to those names), and the manifest."""
    rendered = {
        logical_id: (nested_file_name(logical_id, body), body)
        for logical_id, body in nested.items()
    }
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise BuildError(
            f"{out} is a file; remove it so that build can write the templates"
        ) from None
    except OSError as exc:
        raise BuildError(f"{out}: cannot be created ({exc.strerror or exc})") from None
    try:
        return _store(out, env, stamp, root_body, rendered)
    except OSError as exc:
        raise BuildError(f"{out}: cannot write the templates ({exc.strerror or exc})") from None


def _store(out: Path, env: str, stamp: str, root_body: str, rendered: dict) -> BuildResult:
    wanted = {ROOT_FILE: root_body, **{name: body for name, body in rendered.values()}}
    # only what the previous build wrote may go: a saved plan or any other file stays
    previous = (_read_manifest(out) or {}).get("sha256") or {}
    for name in previous if isinstance(previous, dict) else ():
        if name not in wanted and Path(name).name == name:
            (out / name).unlink(missing_ok=True)
    for name, body in wanted.items():
        path = out / name
        if not path.exists() or path.read_text(encoding="utf-8") != body:
            path.write_text(body, encoding="utf-8")
    manifest = {
        "generated_by": f"mirror-infra {__version__} build --env {env}; do not edit",
        "inputs": stamp,
        "root": ROOT_FILE,
        "nested": {logical_id: name for logical_id, (name, _) in rendered.items()},
        "sha256": {name: sha256(body.encode()) for name, body in sorted(wanted.items())},
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    result = _result_from(out, manifest, skipped=False)
    if result is None:  # pragma: no cover - we just wrote every file
        raise BuildError(f"{out}: build did not write every file")
    return result


def _read_manifest(out: Path) -> dict | None:
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # missing, unreadable or not ours
        return None
    return manifest if isinstance(manifest, dict) else None


def _cached(out: Path, stamp: str) -> BuildResult | None:
    manifest = _read_manifest(out)
    if manifest is None or manifest.get("inputs") != stamp:
        return None
    for name, digest in manifest.get("sha256", {}).items():
        path = out / name
        if not path.is_file() or sha256(path.read_bytes()) != digest:
            return None  # a built file was edited or removed: rebuild
    return _result_from(out, manifest, skipped=True)


def _result_from(out: Path, manifest: dict, skipped: bool) -> BuildResult | None:
    try:
        root = out / manifest["root"]
        nested = {k: out / v for k, v in manifest["nested"].items()}
    except (KeyError, TypeError):
        return None
    if not all(p.is_file() for p in [root, *nested.values()]):
        return None
    return BuildResult(out.name, out, root, nested, skipped)
