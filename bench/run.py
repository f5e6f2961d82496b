"""Benchmark: prints its figures as JSON. Speed is measured here, never asserted by a test.

    .venv/bin/python bench/run.py            # build/lint figures
    .venv/bin/python bench/run.py --deploy   # plus the deploy figures on the local AWS

Each figure is the wall time of the real CLI in a fresh process (what a user waits for),
in a scratch copy of the project so the repository's build/ is left alone.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "mirror_infra.cli"]


def timed(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True, env=env)
    return time.perf_counter() - started


def scratch() -> Path:
    root = Path(tempfile.mkdtemp(prefix="mirror-bench-"))
    shutil.copytree(REPO / "params", root / "params")
    shutil.copy(REPO / ".cfnlintrc.yaml", root / ".cfnlintrc.yaml")
    return root


def build_figures(repeat: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cold_build, cold_lint, cold_both, noop = [], [], [], []
    for _ in range(repeat):
        root = scratch()
        cold_build.append(timed([*CLI, "build", "--all"], root, env))
        cold_lint.append(timed([*CLI, "lint"], root, env))
        noop.append(timed([*CLI, "build", "--all"], root, env))
        shutil.rmtree(root)
        root = scratch()
        started = time.perf_counter()
        timed([*CLI, "build", "--all"], root, env)
        timed([*CLI, "lint"], root, env)
        cold_both.append(time.perf_counter() - started)
        shutil.rmtree(root)
    return {
        "cold_build_both_envs_s": round(statistics.median(cold_build), 3),
        "cold_lint_both_envs_s": round(statistics.median(cold_lint), 3),
        "cold_build_plus_lint_both_envs_s": round(statistics.median(cold_both), 3),
        "noop_rebuild_both_envs_s": round(statistics.median(noop), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median shown)")
    parser.add_argument("--deploy", action="store_true", help="also the deploy figures")
    args = parser.parse_args()
    figures: dict[str, object] = {"cpus": os.cpu_count(), "build": build_figures(args.repeat)}
    if args.deploy:
        sys.path.insert(0, str(REPO))
        from bench import deploy as deploy_bench

        runs = [deploy_bench.figures(REPO) for _ in range(args.repeat)]
        figures["deploy"] = deploy_bench.median_of(runs)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
