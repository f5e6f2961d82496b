"""The README's performance table from one `make bench` run: `python bench/table.py OUT.json`."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _side(side: dict, unit: str) -> str:
    return f"{side['median']} {unit} ({side['min']}–{side['max']})"


def render(result: dict) -> str:
    lines = [
        f"Machine: {result['machine']}; {result['pairs']} interleaved pairs per figure; "
        "median (min–max).",
        "",
        "| figure | mirror-infra | baseline | ratio |",
        "| --- | --- | --- | --- |",
    ]
    for figure in result["figures"]:
        unit = figure["unit"]
        base = figure.get("baseline")
        note = f" — {figure['note']}" if figure.get("note") else ""
        lines.append(
            f"| {figure['figure']}{note} | {_side(figure['mirror_infra'], unit)} | "
            f"{_side(base, unit) if base else '—'} | {figure.get('ratio', '—')} |"
        )
    lines += ["", "Baselines' exact commands:", ""]
    seen = set()
    for figure in result["figures"]:
        base = figure.get("baseline")
        if base and base["command"] not in seen:
            seen.add(base["command"])
            lines.append(f"- `{base['command']}`")
    if "critical_path" in result:
        cp = result["critical_path"]
        lines += [
            "",
            f"Critical path of the staging create at pace {cp['pace']}: {cp['seconds']} s "
            f"({' → '.join(cp['chain'])}).",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(json.loads(Path(sys.argv[1]).read_text())))
