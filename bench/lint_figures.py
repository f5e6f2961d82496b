"""Build and lint figures: mirror-infra against plain cfn-lint on the same templates.

The baseline is cfn-lint's own command line (same venv, same version) on the very templates
mirror-infra builds (both environments: 12), in the same regions (each environment's region and
test regions), with the same rule configuration (the project's `.cfnlintrc.yaml` is in both
working directories). "Cold" means a fresh copy of the project: no build/, no lint cache, no
process left from an earlier run.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

from bench.protocol import Figure, interleave, show, wall

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "mirror_infra.cli"]
CFN_LINT = str(Path(sys.executable).with_name("cfn-lint"))


def _scratch() -> Path:
    root = Path(tempfile.mkdtemp(prefix="mirror-bench-"))
    shutil.copytree(REPO / "params", root / "params")
    shutil.copy(REPO / ".cfnlintrc.yaml", root / ".cfnlintrc.yaml")
    return root


def _regions() -> list[str]:
    regions: set[str] = set()
    for params in sorted((REPO / "params").glob("*.yaml")):
        data = yaml.safe_load(params.read_text())
        regions |= {data["region"], *data.get("test_regions", [])}
    return sorted(regions)


def figures(pairs: int) -> list[Figure]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # the baseline's templates: built once by mirror-infra, then only read by cfn-lint
    built = _scratch()
    wall([*CLI, "build", "--all"], built, env)
    templates = sorted(
        str(p.relative_to(built)) for p in built.glob("build/*/*.json") if p.name != "manifest.json"
    )
    baseline = [CFN_LINT, "--regions", *_regions(), "--", *templates]
    base_cmd = f"cd <built copy> && {show(baseline)}"

    cold_lint = Figure(
        "cold lint, both environments, building them first",
        "mirror-infra lint  # fresh copy: no build/, no cache",
        base_cmd,
    )
    cold_two = Figure(
        "cold build --all, then lint (two commands)",
        "mirror-infra build --all && mirror-infra lint  # fresh copy",
        base_cmd,
    )
    lint_only = Figure(
        "cold lint of built templates (no cache)",
        "mirror-infra lint  # build/ present, lint cache removed",
        base_cmd,
    )
    warm = Figure("warm lint (templates unchanged)", "mirror-infra lint  # cache present", base_cmd)
    noop = Figure("no-op rebuild (inputs unchanged)", "mirror-infra build --all")
    cold_build = Figure("cold build --all (both environments)", "mirror-infra build --all")

    def base(figure: Figure):
        return lambda: figure.baseline.append(wall(baseline, built))

    def pair() -> None:
        # each of our runs is paired with a baseline run just before or after it
        root = _scratch()
        steps = [
            (cold_lint, lambda: wall([*CLI, "lint"], root, env)),
            (warm, lambda: wall([*CLI, "lint"], root, env)),
            (lint_only, lambda: _uncached_lint(root, env)),
        ]
        for figure, run in steps:
            order = [run, base(figure)] if len(figure.ours) % 2 == 0 else [base(figure), run]
            for side in order:
                took = side()
                if took is not None:
                    figure.ours.append(took)
        noop.ours.append(wall([*CLI, "build", "--all"], root, env))
        shutil.rmtree(root)
        root = _scratch()

        def two() -> float:
            took = wall([*CLI, "build", "--all"], root, env)
            cold_build.ours.append(took)
            return took + wall([*CLI, "lint"], root, env)

        order = [two, base(cold_two)] if len(cold_two.ours) % 2 == 0 else [base(cold_two), two]
        for side in order:
            took = side()
            if took is not None:
                cold_two.ours.append(took)
        shutil.rmtree(root)

    interleave(pairs, pair, None)
    shutil.rmtree(built)
    return [cold_lint, cold_two, lint_only, warm, cold_build, noop]


def _uncached_lint(root: Path, env: dict[str, str]) -> float:
    (root / "build" / ".lint-cache.json").unlink()
    return wall([*CLI, "lint"], root, env)
