"""The shape of the code, checked on its syntax trees: the local AWS and the tool never import
each other (SPEC §1: the tool reaches the local AWS only through its endpoint URL)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO


def _modules(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


def imported(path: Path) -> set[str]:
    """Every module `path` imports, at any depth of its code."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [("localaws", ("mirror_infra", "templates_src")), ("mirror_infra", ("localaws",))],
)
def test_the_local_aws_and_the_tool_do_not_import_each_other(package, forbidden):
    crossing = {
        f"{path.relative_to(REPO)}: {name}"
        for path in _modules(package)
        for name in imported(path)
        if name.split(".")[0] in forbidden
    }
    assert crossing == set()
