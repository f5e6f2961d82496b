"""Closing an unprotected window (`window.py`) before a command changes anything else: the
guards the params require and AWS does not hold are put back first, and the command says so.

Documented operations: UpdateTerminationProtection
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-protect-stacks.html),
SetStackPolicy
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/protect-stack-resources.html),
and the tables' `DeletionProtectionEnabled` turned on by a stack update of the deployed
templates and parameters with only that changed
(https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-dynamodb-table.html),
so the stack's template and the tables agree (no drift); a table whose deployed template
already says on was changed outside CloudFormation and is put back by DynamoDB's UpdateTable
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTable.html).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from mirror_infra.build import BuildResult, dump, write_nested
from mirror_infra.deploy import protection
from mirror_infra.deploy.context import Deployment
from mirror_infra.deploy.first_create import PROTECTION
from mirror_infra.deploy.window import Window, closing_command, read, wants_guards
from mirror_infra.errors import DeployError


def close(dep: Deployment, say: Callable[[str], None], on_event=lambda event: None) -> None:
    """Restore every guard the params require before a command changes anything else: wait out
    an operation still running, then termination protection, the stack policies, and the
    tables' deletion protection (an update of the deployed templates with only that changed).
    Says what it restores; does nothing when the window is closed."""
    from mirror_infra.deploy import operation

    if not wants_guards(dep):
        return
    info = dep.cfn.stack(dep.stack_name)
    if info is not None and info.status.in_progress:
        say(f"{dep.stack_name} is {info.status}; waiting for it before restoring its guards")
        info = operation.wait_if_busy(dep)
    window = read(dep, info)
    if window is None or not window.open:
        return
    say(
        f"{dep.stack_name} was left unprotected ({'; '.join(window.missing())}); restoring "
        "the guards first"
    )
    stack_id = window.stack.stack_id
    if window.termination_protection:
        dep.cfn.set_termination_protection(stack_id, True)
        say("  termination protection on")
    if window.stack_policies:
        count = protection.apply_stack_policies(dep.cfn, stack_id)
        say(f"  stack policies set on {count} stack(s)")
    if window.tables:
        # e.g. UPDATE_ROLLBACK_FAILED: no update runs, and the command may be the way out
        if not window.stack.status.usable:
            say(
                f"  WARNING: deletion protection stays off on "
                f"{', '.join(sorted(window.tables.values()))} while {dep.stack_name} is "
                f"{window.stack.status} (no update can run); '{closing_command(dep)}' turns it on "
                "once the stack is settled"
            )
            return
        try:
            _protect_tables(dep, window, say, on_event)
        except DeployError as exc:
            raise DeployError(
                f"the deletion protection of {', '.join(sorted(window.tables.values()))} could "
                f"not be turned back on ({exc}); termination protection and the stack policies "
                "are in place, nothing else was changed"
            ) from None
        say(f"  deletion protection on for {', '.join(sorted(window.tables.values()))}")


_FILE = re.compile(r"[^/}]+\.json$")  # after the last / or ${...}


def _protect_tables(dep: Deployment, window: Window, say, on_event) -> None:
    """An update of the deployed templates and parameters with only the tables'
    DeletionProtectionEnabled turned on (a safe in-place change); a table whose deployed
    template already says on (its protection turned off outside CloudFormation) is put back as
    the template says by DynamoDB's UpdateTable, which leaves no drift."""
    from mirror_infra.deploy import change_sets, flow
    from mirror_infra.deploy import plan as planning
    from mirror_infra.deploy.bootstrap import artifacts_bucket
    from mirror_infra.deploy.package import upload_nested

    cfn = dep.cfn
    root_id = window.stack.stack_id
    with tempfile.TemporaryDirectory(prefix="mirror-infra-") as scratch:
        into = Path(scratch)
        root = cfn.template(root_id)
        nested: dict[str, Path] = {}
        updated = False  # a template of the root's tree turns protection on
        for node in cfn.tree(root_id):
            if not node.path:
                continue
            template = cfn.template(node.stack_id)
            turned = []
            for name, resource in template.get("Resources", {}).items():
                qualified = f"{node.path}.{name}"
                if qualified not in window.tables:
                    continue
                props = resource.setdefault("Properties", {})
                if props.get(PROTECTION) is True:
                    # turned off outside CloudFormation: put it back as the template says (an
                    # update of the template would change nothing, so CloudFormation would not)
                    dep.dynamodb.turn_on_deletion_protection(window.tables[qualified])
                    continue
                props[PROTECTION] = True
                turned.append(name)
            nested[node.path] = write_nested(into, node.path, template)
            if turned:
                updated = True
                url = root["Resources"][node.path]["Properties"]["TemplateURL"]
                root["Resources"][node.path]["Properties"]["TemplateURL"] = _renamed(
                    url, nested[node.path].name
                )
        if not updated:
            return  # every table was put back directly: no update to make
        (into / "root.json").write_text(dump(root), encoding="utf-8")
        build = BuildResult(dep.cfg.name, into, into / "root.json", nested, skipped=False)
        bucket = artifacts_bucket(dep.target)
        upload_nested(dep.s3, bucket, dep.artifacts_prefix, build)
        hooks = flow.Hooks(on_event=on_event, say=say)
        with change_sets.owned(dep, say):
            # the deployed parameters: nothing but the tables' protection may change
            plan = planning.create_plan(dep, build, bucket, window.stack.parameters)
            if plan.has_changes:  # the data gate judges it as any other update
                flow.execute(dep, plan, set(), hooks)


def _renamed(url, name: str):
    """The TemplateURL (a string or Fn::Sub) with its file name replaced by `name`."""
    if isinstance(url, dict) and "Fn::Sub" in url:
        sub = url["Fn::Sub"]
        if isinstance(sub, list):
            return {"Fn::Sub": [_FILE.sub(name, sub[0]), *sub[1:]]}
        return {"Fn::Sub": _FILE.sub(name, sub)}
    if isinstance(url, str):
        return _FILE.sub(name, url)
    raise DeployError(f"a nested stack's TemplateURL the tool did not write: {url!r}")
