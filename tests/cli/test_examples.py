# ruff: noqa: E501 - the example table stays readable
"""The README's output examples (docs/examples/) are produced here, by the real CLI on the
local AWS, not written by hand: each run renders them again and compares, after replacing what
changes from run to run (times, ids, durations). After a deliberate change of an output:
`.venv/bin/pytest tests/cli/test_examples.py --update-golden`, then review the diff."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import REPO

EXAMPLES = REPO / "docs" / "examples"
VOLATILE = [
    (re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+(\+00:00|Z)?"), "<time>"),
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uuid>"),
    (re.compile(r'(time|timestamp)="[^"]*"'), r'\1="<seconds>"'),
    (re.compile(r"mirror-infra-\d{8}-\d{6}-[0-9a-f]{8}"), "<change set>"),
    (re.compile(r"key/[0-9a-zA-Z-]+"), "key/<id>"),
    (re.compile(r"run [0-9a-f]{8,}"), "run <id>"),
    (re.compile(r"-[A-Z0-9]{10,13}(?=[/\"'\s|])"), "-<suffix>"),
]


def _stable(text: str) -> str:
    for pattern, placeholder in VOLATILE:
        text = pattern.sub(placeholder, text)
    return text


def _check(name: str, text: str, update: bool) -> None:
    path = EXAMPLES / name
    if update or not path.exists():
        path.write_text(_stable(text), encoding="utf-8")
    assert _stable(text) == path.read_text(encoding="utf-8"), (
        f"{path} differs from what the CLI prints; if intended, rerun with --update-golden"
    )


def test_the_readme_examples_are_what_the_cli_prints(cli, project, tmp_path, request):
    update = request.config.getoption("--update-golden")
    assert cli("bootstrap").code == 0
    created = cli("apply", "--yes", "--json")
    assert created.code == 0, created.err
    lines = created.out.splitlines()
    _check("apply.jsonl", "\n".join([lines[1], lines[2], lines[-1]]) + "\n", update)

    params = project / "params" / "staging.yaml"
    params.write_text(
        re.sub(r"log_retention_days: \d+", "log_retention_days: 1", params.read_text())
    )
    planned = cli("plan", "--format", "markdown")
    assert planned.code == 1  # refused: the example shows why
    _check("plan.md", planned.out, update)

    report = Path(tmp_path / "verify.xml")
    params.write_text(
        re.sub(r"log_retention_days: \d+", "log_retention_days: 30", params.read_text())
    )
    assert cli("verify", "--junit", str(report)).code == 0
    _check("verify.xml", report.read_text(), update)
