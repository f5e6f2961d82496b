"""The shape of the code, checked on its syntax trees: the local AWS and the tool never import
each other (SPEC §1: the tool reaches the local AWS only through its endpoint URL), no AWS
operation is called outside the gateway in `mirror_infra/aws/`, and no package in
ACYCLIC_PACKAGES has an import cycle (imports inside functions included)."""

from __future__ import annotations

import ast
import sys
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


# the gateway: every CloudFormation call, and the deployer's S3/SSM/DynamoDB calls
GATEWAY = REPO / "mirror_infra" / "aws"
# runs inside taskcat's own virtual environment, on taskcat's clients (it cannot import the tool)
TASKCAT_RUNNER = REPO / "mirror_infra" / "multiregion" / "taskcat_runner.py"
# the checks read and write what they check (tables, topic, key, alarms) with their own clients
CHECKS = REPO / "mirror_infra" / "checks"
DEPLOYER_SERVICES = ("cloudformation", "s3", "ssm", "dynamodb")


def operations(*services: str) -> set[str]:
    """Every operation of `services`, as boto3 clients name their methods."""
    import botocore.session
    from botocore import xform_name

    session = botocore.session.get_session()
    found = set()
    for service in services:
        model = session.get_service_model(service)
        found |= {xform_name(op) for op in model.operation_names}
    return found


def called(path: Path) -> set[str]:
    """The attribute names `path` calls as methods (`x.describe_stacks(...)`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }


def test_no_aws_operation_is_called_outside_the_gateway():
    cloudformation = operations("cloudformation")
    deployer = operations(*DEPLOYER_SERVICES) | {"get_paginator", "get_waiter"}
    outside = {}
    for path in _modules("mirror_infra"):
        if path.is_relative_to(GATEWAY) or path == TASKCAT_RUNNER:
            continue
        # CloudFormation goes through the gateway everywhere; the other services everywhere
        # but in the checks
        forbidden = cloudformation if path.is_relative_to(CHECKS) else deployer
        hits = sorted(called(path) & forbidden)
        if hits:
            outside[str(path.relative_to(REPO))] = hits
    assert outside == {}


def test_the_check_sees_a_raw_call(tmp_path):
    """The walk above would notice a raw call (so its empty answer means something)."""
    sample = tmp_path / "sample.py"
    sample.write_text("def f(cfn):\n    return cfn.describe_stacks(StackName='x')\n")
    assert "describe_stacks" in called(sample) & operations("cloudformation")


def test_the_cli_holds_no_flow():
    """The CLI modules parse, call the library and render: no AWS client of their own."""
    clients = {
        f"{path.relative_to(REPO)}"
        for path in _modules("mirror_infra/commands")
        if "client" in called(path)
    }
    assert clients == set()


# the import graph ----------
def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_edges(package: str) -> dict[str, set[str]]:
    """Module -> the modules of `package` it imports, at any depth of its code (inside
    functions too). `from a.b import c` names the module `a.b.c` when there is one, else
    `a.b`; the parent packages Python runs on the way are not edges (every module would then
    reach its package's `__init__`)."""
    modules = {module_name(path): path for path in _modules(package)}
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = here.split(".")[: len(here.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                found |= {
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in node.names
                }
        edges[name] = {target for target in found if target in modules and target != name}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


# mirror_infra joins once its own cycles are gone (issue 24, the tool's part)
ACYCLIC_PACKAGES = ("localaws",)


@pytest.mark.parametrize("package", ACYCLIC_PACKAGES)
def test_no_import_cycle(package):
    """A module never needs, through any chain of imports, a module that needs it: each
    package reads as layers (localaws: API -> stack operations -> resource providers)."""
    assert cycles(import_edges(package)) == []


def test_the_cycle_check_sees_a_cycle_inside_a_function(tmp_path, monkeypatch):
    """The check above would notice a cycle closed by an import inside a function."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text("def f():\n    from pkg.a import thing\n")
    (package / "c.py").write_text("from . import a\n")
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    assert cycles(import_edges("pkg")) == [["pkg.a", "pkg.b"]]
