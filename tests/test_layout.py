"""The shape of the code, checked on its syntax trees: the local AWS and the tool never import
each other (SPEC §1: the tool reaches the local AWS only through its endpoint URL), no AWS
operation is called outside the gateway in `mirror_infra/aws/`, and no package in
ACYCLIC_PACKAGES has an import cycle (imports inside functions included)."""

from __future__ import annotations

import ast
import re
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


# --- the CLI holds no flow ---------------------------------------------------------------

# modules of the tool the CLI modules use for printing and parsing, not library calls
_PRESENTATION = ("mirror_infra.commands", "mirror_infra.render", "mirror_infra.ui")
_PRESENTATION += ("mirror_infra.errors", "mirror_infra.live", "mirror_infra.junit")


def _bound_names(tree: ast.AST) -> dict[str, str]:
    """Local name -> the dotted mirror_infra name it is bound to by an import, at any depth."""
    bound = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("mirror_infra."):
                    bound[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mirror_infra"):
            for alias in node.names:
                bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return bound


def library_calls(path: Path) -> set[str]:
    """Every call `path` makes into the tool's library, as the dotted name it resolves to
    (`flow.apply(...)` after `from mirror_infra.deploy import flow`:
    mirror_infra.deploy.flow.apply)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bound = _bound_names(tree)
    found = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in bound:
            found.add(bound[func.id])
        elif (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in bound
        ):
            found.add(f"{bound[func.value.id]}.{func.attr}")
    return {name for name in found if not name.startswith(_PRESENTATION)}


# Deployment's gateway objects (mirror_infra/deploy/context.py)
GATEWAY_OBJECTS = ("cfn", "s3", "ssm", "dynamodb")


def gateway_calls(path: Path) -> set[str]:
    """The methods `path` calls on a deployment's gateway objects (`dep.cfn.delete(...)`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Attribute)
        and node.func.value.attr in GATEWAY_OBJECTS
    }


_FLOW = "mirror_infra.deploy.flow"
# per verb, every library call its module may make: the verb's one entry point (the only one
# that deletes, discards or executes anything) and what only reads or checks input
CLI_LIBRARY_CALLS = {
    "__init__.py": set(),
    "plan.py": {f"{_FLOW}.plan"},
    "apply.py": {
        f"{_FLOW}.apply",  # entry point: plan (or a saved plan), confirm, execute, finish
        f"{_FLOW}.continue_rollback",  # entry point of --continue-rollback
        f"{_FLOW}.load_plan",  # reads --plan FILE and checks it is still fresh
        "mirror_infra.adopt.saved.is_survey",  # --plan FILE saved by 'adopt --out'
        "mirror_infra.names.SEED_OUTPUTS.items",
    },
    "destroy.py": {
        "mirror_infra.deploy.destroy.run",  # entry point: survey, consent, delete
        "mirror_infra.deploy.destroy.Answer",
        "mirror_infra.deploy.destroy.Hooks",
    },
    # adopt and apply --plan SURVEY share commands/common.py's adopt_and_show
    "adopt.py": set(),
    "common.py": {
        "mirror_infra.adopt.run.run",  # adopt's entry point: survey, consent, import, converge
        "mirror_infra.adopt.run.Hooks",
        "mirror_infra.adopt.saved.load",
        # validates the flags before any AWS call; refuses unconfirmed express on production
        "mirror_infra.deploy.context.Deployment.open",
        "mirror_infra.deploy.flow.Hooks",
        "mirror_infra.checks.base.open_environment",
        "mirror_infra.accounts.check",  # the account against the params' pinned accounts
        # reads where an adoption stands; refuses every other writer until adopt finishes
        "mirror_infra.adopt.state.refuse_unfinished",
        # restores guards the params require and AWS lacks (an unprotected window) first
        "mirror_infra.deploy.closing.close",
    },
    "bootstrap.py": {"mirror_infra.deploy.bootstrap.bootstrap"},
    "rotate_nonce.py": {"mirror_infra.deploy.nonce.rotate"},
    "smoke.py": {"mirror_infra.checks.smoke.Smoke"},  # deletes only what it wrote
    "verify.py": {"mirror_infra.checks.verify.verify"},
    "drift.py": {"mirror_infra.checks.drift.detect", "mirror_infra.deploy.window.read"},
    "outputs.py": {"mirror_infra.names.SEED_OUTPUTS.items", "mirror_infra.deploy.outputs.read"},
    "status.py": {
        "mirror_infra.deploy.nonce.versions",
        "mirror_infra.deploy.protection.stack_policies_in_place",
        "mirror_infra.deploy.window.read",  # reads only: an unprotected window, reported
    },
    "build.py": {
        "mirror_infra.build.build",
        "mirror_infra.build.build_dir",
        "mirror_infra.envs.available_envs",
        "mirror_infra.lint.Ahead",
        "mirror_infra.lint.Linter",
        "mirror_infra.lint.cached_anywhere",
        "mirror_infra.lint.ignored_rules",
        "mirror_infra.lint.import_cfnlint",
        "mirror_infra.lint.lint_files",
    },
    "local.py": {
        "mirror_infra.aws.target.local_url",
        "mirror_infra.local_daemon.answers",
        "mirror_infra.local_daemon.start",  # the local AWS process this command starts
        "mirror_infra.local_daemon.status",
        "mirror_infra.local_daemon.stop",  # and stops (the one it started)
    },
    "taskcat.py": {
        "mirror_infra.multiregion.run.run",  # entry point: taskcat's own runs
        "mirror_infra.multiregion.upgrade.run",  # entry point of --upgrade-from
        "mirror_infra.multiregion.run.Settings",
        "mirror_infra.multiregion.upgrade.previous_build",
        "mirror_infra.multiregion.project.load",
        "mirror_infra.aws.target.Target.resolve",
        "mirror_infra.aws.target.local_url",
        "mirror_infra.build.build_test_env",
        "mirror_infra.config.load",
        "mirror_infra.envs.params_file",
        "mirror_infra.accounts.check",
    },
}
# what the CLI modules may call on the gateway's objects themselves: reads only
GATEWAY_READS = {"stack", "tree", "parameter"}


def test_the_cli_holds_no_flow():
    """The CLI modules parse, call the library and render: no AWS client of their own, no
    change to AWS except through their verb's one entry point (CLI_LIBRARY_CALLS), and only
    reads on the gateway's objects."""
    clients = {
        f"{path.relative_to(REPO)}"
        for path in _modules("mirror_infra/commands")
        if "client" in called(path)
    }
    assert clients == set()
    modules = _modules("mirror_infra/commands")
    assert {p.name for p in modules} == set(CLI_LIBRARY_CALLS)  # every module has its list
    beyond = {p.name: sorted(library_calls(p) - CLI_LIBRARY_CALLS[p.name]) for p in modules}
    assert {name: calls for name, calls in beyond.items() if calls} == {}
    writes = {p.name: sorted(gateway_calls(p) - GATEWAY_READS) for p in modules}
    assert {name: calls for name, calls in writes.items() if calls} == {}


def test_the_cli_check_sees_a_flow_written_in_a_command(tmp_path):
    """The walks above would notice a command that discards a change set itself."""
    sample = tmp_path / "plan.py"
    sample.write_text(
        "def run(dep, plan):\n"
        "    from mirror_infra.deploy import flow\n"
        "    from mirror_infra.deploy.change_sets import owned\n"
        "    with owned(dep) as ledger:\n"
        "        flow.plan(dep, set(), None)\n"
        "        ledger.discard(plan.change_set_id)\n"
        "    dep.cfn.discard_change_set(plan.change_set_id)\n"
    )
    assert library_calls(sample) - CLI_LIBRARY_CALLS["plan.py"] == {
        "mirror_infra.deploy.change_sets.owned"
    }
    assert gateway_calls(sample) - GATEWAY_READS == {"discard_change_set"}


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


# every package of the project reads as layers (issue 24); the deploy library had its own
# circle removed first (issue 22)
ACYCLIC_PACKAGES = ("localaws", "mirror_infra", "templates_src", "proof")


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


# --- AWS errors are read in one place ----------------------------------------------------

ERRORS_MODULE = REPO / "mirror_infra" / "aws" / "errors.py"


def error_reads(path: Path) -> list[int]:
    """Lines where an AWS error answer is read by hand: `x.response["Error"]` or
    `x.response.get("Error")` (mirror_infra/aws/errors.py's classify reads it for everyone)."""

    def is_error(node: ast.AST) -> bool:
        return isinstance(node, ast.Constant) and node.value == "Error"

    def is_response(node: ast.AST) -> bool:
        return isinstance(node, ast.Attribute) and node.attr == "response"

    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        read = isinstance(node, ast.Subscript) and is_response(node.value) and is_error(node.slice)
        read = read or (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and is_response(node.func.value)
            and bool(node.args)
            and is_error(node.args[0])
        )
        if read:
            lines.append(node.lineno)
    return lines


def test_aws_errors_are_read_only_by_the_one_classifier():
    """The tool and the proof match AWS error codes and texts only through
    mirror_infra/aws/errors.py (its table of real AWS messages is tested); the local AWS, which
    imports nothing of the tool, is outside this rule."""
    outside = {
        str(path.relative_to(REPO)): error_reads(path)
        for package in ("mirror_infra", "proof")
        for path in _modules(package)
        if path != ERRORS_MODULE and error_reads(path)
    }
    assert outside == {}


def test_the_error_check_sees_a_code_read_by_hand(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def f(exc):\n"
        "    a = exc.response['Error']['Code']\n"
        "    return a, exc.response.get('Error', {})\n"
    )
    assert error_reads(sample) == [2, 3]


# --- advice naming the tool goes through the one builder ------------------------------------

# verbs whose advice needs no target (they never reach AWS: the templates, the local AWS's own
# process); any other `mirror-infra` command a message names comes from Target.tool_command or
# Deployment.tool_command, which add --local, --profile, --region and --env
OFFLINE_VERBS = {"build", "lint", "local"}
# a message naming a command as the origin of a file, not as advice to run
NAMED_NOT_ADVISED = {("mirror_infra/deploy/plan.py", "plan")}
_QUOTED_TOOL = re.compile(r"'mirror-infra(?: ([\w-]+))?")


def hand_built_advice(path: Path) -> list[tuple[int, str]]:
    """(line, verb) of each 'mirror-infra ...' command quoted in a string of `path`, docstrings
    left out ('' when the verb is a value filled in)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            found += [(node.lineno, verb) for verb in _QUOTED_TOOL.findall(node.value)]
    return found


def test_advice_naming_the_tool_is_built_by_tool_command():
    """Advice like 'mirror-infra apply --env E' written by hand never says --local or the
    --profile given, and sends a user of --local to their default AWS account."""
    by_hand = {
        f"{path.relative_to(REPO)}:{line}": verb
        for package in ("mirror_infra", "proof")
        for path in _modules(package)
        for line, verb in hand_built_advice(path)
        if verb not in OFFLINE_VERBS
        and (str(path.relative_to(REPO)), verb) not in NAMED_NOT_ADVISED
    }
    assert by_hand == {}


def test_the_advice_check_sees_a_command_written_by_hand(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        'def f(env):\n    """Run \'mirror-infra apply\' in a docstring: not advice."""\n'
        "    a = f\"run 'mirror-infra apply --env {env}'\"\n"
        '    b = "run \'mirror-infra " f"{env}\'"\n'
        "    return a, b, \"run 'mirror-infra build'\"\n"
    )
    assert hand_built_advice(sample) == [(3, "apply"), (4, ""), (5, "build")]
