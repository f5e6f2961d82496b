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
    return sorted(p.stem for p in params_dir(root).glob("*.yaml"))


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
    if not path.is_file():
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
