"""The tool as a user runs it: `mirror-infra` in a subprocess, through the AWS profile (never
--local), in a scratch project per throwaway environment (its params file and the repository's
lint settings). The commands are the CLI's own, so whatever the CLI does, the proof does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from mirror_infra.envs import THROWAWAY_VAR

REPO = Path(__file__).resolve().parents[1]
# the CLI reads these from the environment; the proof passes the target as flags only
_TARGET_VARS = (
    "MIRROR_INFRA_LOCAL",
    "MIRROR_INFRA_LOCAL_URL",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
)
_SHOWN = 4000  # characters of each stream kept as a step's evidence


@dataclass(frozen=True)
class Ran:
    argv: tuple[str, ...]
    code: int
    out: str
    err: str
    seconds: float

    def evidence(self) -> str:
        def tail(text: str) -> str:
            return text if len(text) <= _SHOWN else "…" + text[-_SHOWN:]

        parts = [f"$ mirror-infra {' '.join(self.argv)}", f"exit {self.code} ({self.seconds:.1f}s)"]
        if self.out.strip():
            parts.append(tail(self.out.rstrip()))
        if self.err.strip():
            parts.append(tail(self.err.rstrip()))
        return "\n".join(parts)

    @property
    def last_error(self) -> str:
        lines = [line for line in self.err.splitlines() if line.strip()]
        return lines[-1].strip() if lines else f"exit {self.code}"


class Tool:
    def __init__(self, profile: str, region: str, workdir: Path) -> None:
        self.profile = profile
        self.region = region
        self.workdir = workdir

    def project(self, env: str) -> Path:
        return self.workdir / env

    def write_params(self, env: str, text: str) -> Path:
        """The environment's scratch project: params/<env>.yaml and the lint settings."""
        root = self.project(env)
        (root / "params").mkdir(parents=True, exist_ok=True)
        (root / "params" / f"{env}.yaml").write_text(text, encoding="utf-8")
        shutil.copy(REPO / ".cfnlintrc.yaml", root / ".cfnlintrc.yaml")
        return root

    def run(self, env: str, *args: str, timeout: float = 3600) -> Ran:
        """`mirror-infra <args> --env <env> --profile P --region R` in the project."""
        argv = (*args, "--env", env, "--profile", self.profile, "--region", self.region)
        environ = {k: v for k, v in os.environ.items() if k not in _TARGET_VARS}
        environ.update({THROWAWAY_VAR: env, "MIRROR_INFRA_PLAIN": "1", "PYTHONUNBUFFERED": "1"})
        started = time.monotonic()
        try:
            done = subprocess.run(
                [sys.executable, "-m", "mirror_infra.cli", *argv],
                cwd=self.project(env),
                env=environ,
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            return Ran(argv, -1, str(exc.stdout or ""), f"timed out after {timeout:.0f}s", timeout)
        return Ran(argv, done.returncode, done.stdout, done.stderr, time.monotonic() - started)
