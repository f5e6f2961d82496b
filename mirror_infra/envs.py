"""Where environments live: `params/{env}.yaml`. Kept free of heavy imports (used by every
command, including the sub-second no-op rebuild)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from mirror_infra.errors import ConfigError
from mirror_infra.names import ThrowawayEnv

ENV_NAME = re.compile(r"^[a-z][a-z0-9-]{1,11}$")  # 2-12 characters (names.ENV_NAME_MAX)
# A test harness that drives the CLI on a throwaway environment of its own (`make aws-proof`
# writes its params file in a scratch project) names that one environment here; every other
# throwaway name stays refused, so no real environment can take one.
THROWAWAY_VAR = "MIRROR_INFRA_THROWAWAY_ENV"


def params_dir(root: Path | None = None) -> Path:
    return (root or Path.cwd()) / "params"


def available_envs(root: Path | None = None) -> list[str]:
    folder = params_dir(root)
    try:
        return sorted(p.name[: -len(".yaml")] for p in _listed(folder) if p.suffix == ".yaml")
    except OSError as exc:
        raise unreadable(folder, exc, folder=True) from None


def _listed(folder: Path) -> list[Path]:
    # a missing folder lists nothing (the caller names what it looked for)
    return list(folder.iterdir()) if folder.is_dir() else []


def unreadable(path: Path, exc: OSError, folder: bool = False) -> ConfigError:
    """The one line for a params file or folder this user cannot read."""
    shown = shown_path(path)
    if isinstance(exc, PermissionError):
        need = "read and enter (r and x)" if folder else "read"
        return ConfigError(
            f"{shown}: not readable (permission denied); let the user running mirror-infra "
            f"{need} it"
        )
    return ConfigError(f"{shown}: cannot be read ({exc.strerror or exc})")


def params_file(env: str, root: Path | None = None) -> Path:
    """The params file of `env`, or a ConfigError naming what exists."""
    if not ENV_NAME.match(env):
        raise ConfigError(
            f"--env {env!r}: expected a lower-case name like 'staging' "
            f"(letters, digits, '-'; 2-12 characters)"
        )
    if ThrowawayEnv.of(env) is not None and os.environ.get(THROWAWAY_VAR) != env:
        raise ConfigError(
            f"--env {env!r}: names starting with {ThrowawayEnv.of(env).value!r} belong to the "
            "throwaway environments of test runs; pick another name"
        )
    path = params_dir(root) / f"{env}.yaml"
    try:
        found = path.is_file()
    except OSError as exc:  # a folder this user cannot enter: stat itself is refused
        raise unreadable(path.parent, exc, folder=True) from None
    if not found:
        known = ", ".join(available_envs(root)) or "none"
        raise ConfigError(
            f"{shown_path(path)}: no such params file for --env {env!r}; "
            f"known environments: {known}"
        )
    return path


def shown_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
