"""The benchmark's protocol: interleaved pairs, median and spread, the baseline's exact command.

Every figure is measured as at least `pairs` pairs: one run of mirror-infra and one of the
baseline, the order alternating from pair to pair so that load on this shared machine falls on
both alike. A figure reports the median and the min-max of each side and the ratio of the
medians (mirror-infra / baseline; below 1.0 means mirror-infra is faster).
"""

from __future__ import annotations

import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


def spread(samples: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(samples), 3),
        "min": round(min(samples), 3),
        "max": round(max(samples), 3),
        "n": len(samples),
    }


@dataclass
class Figure:
    name: str
    ours_command: str
    baseline_command: str | None = None
    unit: str = "s"
    ours: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        result: dict[str, object] = {
            "figure": self.name,
            "unit": self.unit,
            "mirror_infra": {"command": self.ours_command, **spread(self.ours)},
        }
        if self.baseline:
            result["baseline"] = {"command": self.baseline_command, **spread(self.baseline)}
            base = statistics.median(self.baseline)
            result["ratio"] = round(statistics.median(self.ours) / base, 2) if base else None
        if self.note:
            result["note"] = self.note
        return result

    def line(self) -> str:
        ours = spread(self.ours)
        text = f"{self.name}: {ours['median']}{self.unit} ({ours['min']}-{ours['max']})"
        if self.baseline:
            base = spread(self.baseline)
            ratio = self.as_dict()["ratio"]
            text += f" vs {base['median']}{self.unit} ({base['min']}-{base['max']}) ratio {ratio}"
        return text


def interleave(
    pairs: int,
    ours: Callable[[], float | None],
    baseline: Callable[[], float | None] | None,
) -> None:
    """Run `pairs` pairs, alternating which side goes first; each callable records its own
    samples (a pair may yield several figures)."""
    for i in range(pairs):
        sides = [ours, baseline] if i % 2 == 0 else [baseline, ours]
        for side in sides:
            if side is not None:
                side()
        print(f"  pair {i + 1}/{pairs} done", file=sys.stderr, flush=True)


def wall(argv: list[str], cwd: Path, env: dict[str, str] | None = None, ok=(0,)) -> float:
    """Wall time of one command in a fresh process (what a user waits for)."""
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, env=env, text=True)
    took = time.perf_counter() - started
    if done.returncode not in ok:
        raise RuntimeError(f"{shlex.join(argv)} exited {done.returncode}: {done.stderr[-2000:]}")
    return took


def show(argv: list[str]) -> str:
    return shlex.join(argv)
