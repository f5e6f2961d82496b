"""The staging create's critical path at a given pace: the longest chain of dependent
resources, each taking the local AWS's paced duration (localaws/pacing.py), a nested stack
taking its own template's critical path plus CloudFormation's overhead for the stack.

Dependencies are what CloudFormation orders by: Ref, Fn::GetAtt, Fn::Sub's ${...} and
DependsOn within a template (pseudo parameters and template parameters are not resources).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

NESTED = "AWS::CloudFormation::Stack"


def _refs(node, names: set[str]) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and value in names:
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) else str(value).split(".")[0]
                if target in names:
                    found.add(target)
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^!][^}]*)\}", text)} & names
            found |= _refs(value, names)
    elif isinstance(node, list):
        for item in node:
            found |= _refs(item, names)
    return found


def chain(directory: Path, name: str, pace: float) -> tuple[float, list[str]]:
    """(seconds, the resources on the longest chain) for the template `name` in `directory`."""
    from localaws.pacing import DEFAULT_DURATION, DURATIONS

    template = json.loads((directory / name).read_text())
    resources = template["Resources"]
    names = set(resources)

    @cache
    def finish(logical_id: str) -> tuple[float, tuple[str, ...]]:
        spec = resources[logical_id]
        deps = _refs(spec.get("Properties", {}), names)
        depends = spec.get("DependsOn", [])
        deps |= set([depends] if isinstance(depends, str) else depends)
        start, before = 0.0, ()
        for dep in deps:
            at, path = finish(dep)
            if at > start:
                start, before = at, path
        own = DURATIONS.get(spec["Type"], DEFAULT_DURATION)[0] * pace
        label = logical_id
        if spec["Type"] == NESTED:
            url = json.dumps(spec["Properties"]["TemplateURL"])
            nested = next(p.name for p in directory.glob("*.json") if p.name in url)
            inner, path = chain(directory, nested, pace)
            own += inner
            label = f"{logical_id}[{' > '.join(path)}]"
        return start + own, (*before, label)

    end, path = max((finish(lid) for lid in resources), key=lambda r: r[0])
    return end, list(path)


def report(repo: Path, pace: float) -> dict[str, object]:
    root = Path(tempfile.mkdtemp(prefix="mirror-bench-cp-"))
    try:
        shutil.copytree(repo / "params", root / "params")
        subprocess.run(
            [sys.executable, "-m", "mirror_infra.cli", "build", "--env", "staging"],
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(repo)},
            check=True,
            capture_output=True,
        )
        seconds, path = chain(root / "build" / "staging", "root.json", pace)
    finally:
        shutil.rmtree(root)
    return {"pace": pace, "seconds": round(seconds, 2), "chain": path}


if __name__ == "__main__":
    print(json.dumps(report(Path(__file__).resolve().parents[1], float(sys.argv[1])), indent=2))
