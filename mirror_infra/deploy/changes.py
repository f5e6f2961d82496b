"""A change set's rows, read back as one list of changes (each nested stack's rows after its
own row), each judged for what it risks: replacement, deletion, data lost in place, or a
replacement AWS cannot do. The plan (plan.py) is made of these."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from mirror_infra.aws.cfn_answers import NESTED_STACK, ChangeSet, ResourceChange
from mirror_infra.aws.cloudformation import CloudFormation
from mirror_infra.aws.path import ResourcePath
from mirror_infra.aws.status import ChangeAction, Replacement
from mirror_infra.build import BuildResult
from mirror_infra.deploy import phantom
from mirror_infra.deploy.risk import (
    CONDITIONAL_WHY,
    IMPOSSIBLE_WHY,
    Risk,
    classify_change,
    custom_named,
    in_place_losses,
    row_reasons,
)


@dataclass(frozen=True)
class Change:
    stack: str  # "" for the root stack, else the nested stack's path ("Dynamodb")
    action: ChangeAction
    logical_id: str
    resource_type: str
    replacement: Replacement | str  # "" when not applicable (anything but Modify)
    properties: tuple[str, ...]
    physical_id: str
    risk: Risk
    condition: str = ""  # a template Condition the resource is created under, if any
    reason: str = ""  # why the risk, when the row alone does not say (an in-place loss)
    policy_action: str = ""  # AWS's PolicyAction: what happens to the old resource
    # AWS shows it, but it is proven to change nothing (deploy/phantom.py, issue 759): shown
    # with why (`reason`), never counted as a change
    phantom: bool = False

    @property
    def path(self) -> ResourcePath:
        return ResourcePath(self.stack, self.logical_id)

    @property
    def qualified_id(self) -> str:
        return str(self.path)

    @property
    def depth(self) -> int:
        return self.path.depth

    def allowed_by(self, names: set[str]) -> bool:
        return self.path.named_by(names)


Rows = list[tuple[str, ResourceChange]]  # (stack path, row), as read_rows reads them


def read_rows(cfn: CloudFormation, described: ChangeSet, stack: str = "") -> Rows:
    """The change set's rows, each nested stack's rows right after its own row."""
    rows: Rows = []
    for rc in described.changes:
        rows.append((stack, rc))
        if rc.nested_change_set:
            nested = cfn.change_set(rc.nested_change_set)
            rows += read_rows(cfn, nested, ResourcePath(stack, rc.logical_id).nested_stack)
    return rows


def judge_rows(rows: Rows, proven: phantom.Phantoms = phantom.NONE) -> list[Change]:
    """Each row as a change judged for its risk; `proven`: what is proven phantom."""
    changes: list[Change] = []
    for stack, rc in rows:
        replacement = rc.replacement or ""
        path = ResourcePath(stack, rc.logical_id)
        set_aside = proven.of(path)
        risk = classify_change(
            rc.action, rc.resource_type, replacement, rc.details, rc.policy_action, set_aside
        )
        changes.append(
            Change(
                stack=stack,
                action=rc.action,
                logical_id=rc.logical_id,
                resource_type=rc.resource_type,
                replacement=replacement,
                properties=rc.properties,
                physical_id=rc.physical_id,
                risk=risk,
                reason="; ".join(row_reasons(rc.resource_type, rc.details, set_aside))
                if risk is Risk.LOSES_DATA
                else proven.rows.get(path, ""),
                policy_action=rc.policy_action,
                phantom=path in proven.rows,
            )
        )
    return changes


def read_changes(
    cfn: CloudFormation, described: ChangeSet, stack: str = "", build: BuildResult | None = None
) -> list[Change]:
    """The change set's rows judged, each nested stack's rows right after its own row; with
    the `build` of a root change set, the rows proven phantom are marked so."""
    rows = read_rows(cfn, described, stack)
    proven = (
        phantom.prove(cfn, rows, described.stack_id, build)
        if build is not None and not stack
        else phantom.NONE
    )
    return judge_rows(rows, proven)


def changes_nothing(rows: Rows, proven: phantom.Phantoms) -> bool:
    """Whether a root change set changes nothing although it has rows: AWS lists every nested
    stack as a Modify row with ChangeSource Automatic ("the nested stack's template might have
    changed", API_ResourceChangeDetail) even when nothing did, and under them the rows of
    issue 759; so the test is that every row is such a nested stack's row, with its own
    change set, or a row proven phantom."""
    return all(
        ResourcePath(stack, rc.logical_id) in proven.rows or proven.unchanged_nested_stack(rc)
        for stack, rc in rows
    )


def judge_in_place(cfn: CloudFormation, changes: list[Change], build: BuildResult) -> list[Change]:
    """Mark the in-place changes that lose data, by comparing each updated nested stack's
    deployed template with the new one (a change set names properties, not values). A loss
    with no row of its own (a DeletionPolicy that no longer keeps the data) gets one, after
    its stack's rows."""
    judged = [_replacement_why(c, build) for c in changes]
    for stack in [c for c in changes if c.resource_type == NESTED_STACK and not c.stack]:
        if stack.action is not ChangeAction.MODIFY or stack.logical_id not in build.nested:
            continue
        deployed = cfn.template(stack.physical_id)
        new = json.loads(build.nested[stack.logical_id].read_text(encoding="utf-8"))
        for logical_id, reasons in in_place_losses(deployed, new).items():
            path = ResourcePath(stack.logical_id, logical_id)
            rows = [i for i, c in enumerate(judged) if c.path == path]
            if rows:
                row = judged[rows[0]]
                risk = Risk.LOSES_DATA if row.risk is Risk.SAFE else row.risk
                both = [row.reason] if row.reason else []
                both += [r for r in reasons if r not in row.reason]  # once, from both sources
                judged[rows[0]] = replace(row, risk=risk, reason="; ".join(both))
                continue
            after = max(
                i for i, c in enumerate(judged) if c.stack == stack.logical_id or c == stack
            )
            judged.insert(
                after + 1,
                Change(
                    stack=stack.logical_id,
                    action=ChangeAction.MODIFY,
                    logical_id=logical_id,
                    resource_type=new["Resources"][logical_id]["Type"],
                    replacement=Replacement.FALSE,
                    properties=("DeletionPolicy",),
                    physical_id="",
                    risk=Risk.LOSES_DATA,
                    reason="; ".join(reasons),
                ),
            )
    return judged


def _replacement_why(change: Change, build: BuildResult) -> Change:
    """A replacement of a custom-named resource cannot happen on AWS; a Conditional one says
    why it is still counted destructive."""
    if change.risk is not Risk.REPLACES_DATA or change.stack not in build.nested:
        return change
    template = json.loads(build.nested[change.stack].read_text(encoding="utf-8"))
    resource = (template.get("Resources") or {}).get(change.logical_id) or {}
    if change.replacement == Replacement.TRUE and custom_named(resource):
        return replace(change, risk=Risk.IMPOSSIBLE, reason=IMPOSSIBLE_WHY)
    if change.replacement == Replacement.CONDITIONAL:
        return replace(change, reason=CONDITIONAL_WHY)
    return change


def expand_new_stacks(
    changes: list[Change], build: BuildResult, root_values: dict[str, str]
) -> list[Change]:
    """AWS makes no nested change set for a stack it creates; list what its template adds,
    leaving out a resource whose Condition is false with `root_values` (the root parameters
    the change set was made with), and marking one whose Condition is not known."""
    from mirror_infra.deploy import conditions

    expanded: list[Change] = []
    read_from_aws = {c.stack for c in changes}
    root = json.loads(build.root.read_text(encoding="utf-8"))
    for change in changes:
        expanded.append(change)
        path = change.qualified_id
        if (
            change.action is ChangeAction.ADD
            and change.resource_type == NESTED_STACK
            and not change.stack
            and path in build.nested
            and path not in read_from_aws  # AWS did make a nested change set for it
        ):
            template = json.loads(build.nested[path].read_text(encoding="utf-8"))
            known = conditions.decided(root, path, template, root_values)
            for logical_id, resource in sorted(template.get("Resources", {}).items()):
                condition = resource.get("Condition", "")
                if known.get(condition) is False:
                    continue  # never created with these values
                expanded.append(
                    Change(
                        stack=path,
                        action=ChangeAction.ADD,
                        logical_id=logical_id,
                        resource_type=resource["Type"],
                        replacement="",
                        properties=(),
                        physical_id="",
                        risk=Risk.SAFE,
                        # shown so a reader knows it may not be created at all
                        condition="" if known.get(condition) else condition,
                    )
                )
    return expanded


def row_keys(changes: list[Change]) -> list[tuple]:
    return [
        (c.qualified_id, c.action, c.resource_type, c.replacement, c.risk, c.phantom)
        for c in changes
    ]
