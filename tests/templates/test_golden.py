"""The built templates match the reviewed copies in tests/golden/.

A deliberate template change is accepted by regenerating them:
    .venv/bin/pytest tests/templates/test_golden.py --update-golden
and reviewing the diff in git.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest

from tests.conftest import ENVS, REPO

GOLDEN = REPO / "tests" / "golden"
STACKS = ("Root", "Kms", "Dynamodb", "Monitoring", "Storage", "Iam")


def _text(template: dict) -> str:
    return json.dumps(template, indent=2, sort_keys=True) + "\n"


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("stack", STACKS)
def test_template_matches_golden(built, env: str, stack: str, request) -> None:
    actual = _text(built[env][stack])
    golden: Path = GOLDEN / env / f"{stack.lower()}.json"
    if request.config.getoption("--update-golden"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual)
        return
    assert golden.exists(), f"{golden} missing: run pytest --update-golden and review it"
    expected = golden.read_text()
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=f"golden/{env}/{stack.lower()}.json",
                tofile=f"built/{env}/{stack.lower()}.json",
                n=2,
            )
        )
        pytest.fail(
            "template differs from golden (rerun with --update-golden if intended):\n" + diff,
            pytrace=False,
        )
