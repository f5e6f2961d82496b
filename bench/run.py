"""Benchmark: every figure with its baseline and ratio, in one run. Speed is measured here,
never asserted by a test.

    .venv/bin/python bench/run.py                      # build/lint figures
    .venv/bin/python bench/run.py --deploy --paced     # plus the deploy figures (make bench)

Protocol (bench/protocol.py): at least 5 interleaved pairs per figure (mirror-infra and its
baseline in turn, the order alternating), each run a fresh process in a scratch copy of the
project; median and min-max of each side, the baseline's exact command, the ratio of medians.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import critical_path, deploy, lint_figures, paced  # noqa: E402
from bench.protocol import Figure  # noqa: E402

PACE = 0.05  # 5 % of AWS's typical durations: the KMS key takes 6 s instead of 2 minutes


def machine() -> str:
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        model = platform.processor() or "unknown CPU"
    system = f"{platform.system()}, Python {platform.python_version()}"
    return f"{os.cpu_count()} cores ({model}), {system}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5, help="interleaved pairs per figure (>= 5)")
    parser.add_argument("--deploy", action="store_true", help="deploy figures, instant local AWS")
    parser.add_argument("--paced", action="store_true", help="deploy figures, AWS-paced")
    parser.add_argument("--pace", type=float, default=PACE)
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    if args.pairs < 5:
        parser.error("--pairs: the protocol takes at least 5 interleaved pairs per figure")
    figures: list[Figure] = []

    def measure(title: str, produce) -> None:
        print(f"{title} ...", file=sys.stderr, flush=True)
        for figure in produce():
            figures.append(figure)
            print(figure.line(), file=sys.stderr, flush=True)

    measure("build and lint", lambda: lint_figures.figures(args.pairs))
    if args.deploy:
        measure("deploy, instant local AWS", lambda: deploy.figures(REPO, args.pairs))
    extra: dict[str, object] = {}
    if args.paced:
        measure(
            f"deploy, AWS-paced local AWS (pace {args.pace})",
            lambda: paced.figures(REPO, args.pairs, args.pace),
        )
        measure(
            "exit delay over phases, AWS-paced local AWS",
            lambda: [paced.phase_figure(REPO, args.pace)],
        )
        measure(
            f"express mode, AWS-paced local AWS (pace {args.pace})",
            lambda: paced.express_figures(REPO, args.pairs, args.pace),
        )
        extra["critical_path"] = critical_path.report(REPO, args.pace)
    result = {
        "machine": machine(),
        "pairs": args.pairs,
        "figures": [f.as_dict() for f in figures],
        **extra,
    }
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
