"""Rows AWS shows although nothing changes: cloudformation-coverage-roadmap issue 759 (AWS's
own tracker, open: https://github.com/aws-cloudformation/cloudformation-coverage-roadmap/issues/759;
no documentation page covers it). When a root change set makes nested change sets, a nested
stack's parameter fed by another nested stack's output (`Fn::GetAtt Kms.Outputs.KeyArn`) is
not resolved, so every resource using it is shown changing (Dynamic, ParameterReference), even
replaced, and so are the resources that refer to those. Here the key's ARN is the one such
parameter (SPEC §2).

A detail is proven phantom only when all of this holds, read from the change sets and the
templates (unknown means risky: anything unproven stays a real change):

- it is `Evaluation: Dynamic`, `ChangeSource: ParameterReference` on a parameter the root
  template feeds with exactly `Fn::GetAtt <Other>.Outputs.<X>`, the same in the deployed root
  template as in the new one;
- that output does not change: its definition is the same in the other stack's deployed and
  new templates, and its value is one of that stack's resources, by `Ref` or by an attribute a
  resource keeps for life (`STABLE_ATTRIBUTES`), which the other stack's own change set
  neither adds, removes nor replaces;
- the property's text in the deployed template of the row's stack is the one in the new;
- or it is a Dynamic ResourceReference/ResourceAttribute detail caused by a resource of the
  same stack whose row is itself proven phantom.

A row is phantom when every one of its details is, and its resource's whole definition is
unchanged; `risk.classify_change` exempts it (and, in a row with a real change too, only the
phantom details) from the data-safety rules.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mirror_infra.aws.cfn_answers import NESTED_STACK, PropertyDetail, ResourceChange
from mirror_infra.aws.path import ResourcePath
from mirror_infra.aws.status import ChangeAction, Replacement
from mirror_infra.build import BuildResult

TRACKER = "cloudformation-coverage-roadmap #759"

# attributes a resource keeps for its whole life, so that an in-place update never changes
# them (only a replacement makes another resource); an allow-list, each with its reason
STABLE_ATTRIBUTES: dict[tuple[str, str], str] = {
    ("AWS::KMS::Key", "Arn"): "a key's ARN is fixed when the key is created",
    ("AWS::KMS::Key", "KeyId"): "a key's id is fixed when the key is created",
}

_DYNAMIC_REFERENCES = ("ResourceReference", "ResourceAttribute")


@dataclass(frozen=True)
class Phantoms:
    """What a change set shows that is proven not to change."""

    # Stack.LogicalId -> the details of its row proven phantom
    details: dict[ResourcePath, frozenset[PropertyDetail]] = field(default_factory=dict)
    # rows proven phantom in every detail -> why, as the plan shows it
    rows: dict[ResourcePath, str] = field(default_factory=dict)
    # "Other.Outputs.X" proven unchanged (a nested stack's own row may name one)
    outputs: frozenset[str] = frozenset()

    def of(self, path: ResourcePath) -> frozenset[PropertyDetail]:
        return self.details.get(path, frozenset())

    def unchanged_nested_stack(self, rc: ResourceChange) -> bool:
        """A nested stack's own row that changes nothing of its own: its details are AWS's
        Automatic ones ("the nested stack's template might have changed",
        API_ResourceChangeDetail) or read an output proven unchanged."""
        return (
            rc.action is ChangeAction.MODIFY
            and rc.resource_type == NESTED_STACK
            and bool(rc.nested_change_set)
            and bool(rc.other_sources or rc.details)
            and all(source == "Automatic" for source in rc.other_sources)
            and all(
                d.source == "Automatic"
                or (
                    d.evaluation == "Dynamic"
                    and d.source in _DYNAMIC_REFERENCES
                    and d.causing in self.outputs
                )
                for d in rc.details
            )
        )


NONE = Phantoms()


def _feed(expr: Any) -> tuple[str, str] | None:
    """(Other, X) when a nested stack parameter's expression is exactly another nested stack's
    output, Fn::GetAtt Other.Outputs.X."""
    if not isinstance(expr, dict) or set(expr) != {"Fn::GetAtt"}:
        return None
    arg = expr["Fn::GetAtt"]
    if isinstance(arg, str):
        arg = arg.split(".", 1)
    if not (isinstance(arg, list) and len(arg) == 2 and all(isinstance(a, str) for a in arg)):
        return None
    stack, attribute = arg
    prefix, _, output = attribute.partition(".")
    return (stack, output) if prefix == "Outputs" and output else None


def _reads(expr: Any, resources: dict) -> set[str] | None:
    """The resource an output's value is, when it is one that an in-place update keeps: `Ref`
    of a resource (its physical id) or `Fn::GetAtt` of a stable attribute; None otherwise (a
    parameter, another function: not judged here)."""
    if not isinstance(expr, dict) or len(expr) != 1:
        return None
    ((key, arg),) = expr.items()
    if key == "Ref" and isinstance(arg, str):
        name, attribute = arg, None
    elif key == "Fn::GetAtt":
        parts = arg.split(".", 1) if isinstance(arg, str) else arg
        if not (isinstance(parts, list) and len(parts) == 2):
            return None
        name, attribute = parts
    else:
        return None
    kind = (resources.get(name) or {}).get("Type")
    if kind is None:
        return None  # a parameter of the stack, or nothing known
    if attribute is None or (kind, attribute) in STABLE_ATTRIBUTES:
        return {name}
    return None


def _properties(resource: dict) -> dict:
    return resource.get("Properties") or {}


@dataclass
class _Proof:
    rows: dict[str, dict[str, ResourceChange]]  # stack ("" root) -> logical id -> row
    deployed: Callable[[str], dict]  # a stack's physical id -> its deployed template
    root: dict  # the deployed root template
    build: BuildResult
    _templates: dict[str, dict] = field(default_factory=dict)
    _outputs: dict[tuple[str, str], bool] = field(default_factory=dict)

    def new(self, stack: str) -> dict:
        key = f"new:{stack}"
        if key not in self._templates:
            path = self.build.root if not stack else self.build.nested[stack]
            self._templates[key] = json.loads(path.read_text(encoding="utf-8"))
        return self._templates[key]

    def old(self, stack: str) -> dict:
        key = f"old:{stack}"
        if key not in self._templates:
            self._templates[key] = self.deployed(self.rows[""][stack].physical_id)
        return self._templates[key]

    def updated(self, stack: str) -> bool:
        """A nested stack of the build that the root's change set updates (Modify) and whose
        own change set AWS made."""
        rc = self.rows[""].get(stack)
        return (
            stack in self.build.nested
            and rc is not None
            and rc.resource_type == NESTED_STACK
            and rc.action is ChangeAction.MODIFY
            and bool(rc.nested_change_set)
        )

    def feeds(self, stack: str) -> dict[str, tuple[str, str]]:
        """The stack's parameters fed by another nested stack's output, fed the same way in
        the deployed root template as in the new one."""
        new = _properties((self.new("").get("Resources") or {}).get(stack) or {})
        old = _properties((self.root.get("Resources") or {}).get(stack) or {})
        found = {}
        for name, expr in (new.get("Parameters") or {}).items():
            fed = _feed(expr)
            if fed and fed[0] != stack and (old.get("Parameters") or {}).get(name) == expr:
                found[name] = fed
        return found

    def output_unchanged(self, stack: str, output: str) -> bool:
        if (stack, output) not in self._outputs:
            self._outputs[(stack, output)] = self._output_unchanged(stack, output)
        return self._outputs[(stack, output)]

    def _output_unchanged(self, stack: str, output: str) -> bool:
        if not self.updated(stack):
            return False
        old, new = self.old(stack), self.new(stack)
        definition = (new.get("Outputs") or {}).get(output)
        if definition is None or (old.get("Outputs") or {}).get(output) != definition:
            return False
        if set(definition) - {"Value", "Description"}:
            return False  # a Condition or an Export: not judged here
        old_resources, new_resources = old.get("Resources") or {}, new.get("Resources") or {}
        reads = _reads(definition.get("Value"), new_resources)
        if reads is None:
            return False
        rows = self.rows.get(stack, {})
        for logical_id in reads:
            before = old_resources.get(logical_id) or {}
            if before.get("Type") != new_resources[logical_id].get("Type"):
                return False
            rc = rows.get(logical_id)
            if rc is not None and not (
                rc.action is ChangeAction.MODIFY and rc.replacement == Replacement.FALSE
            ):
                return False  # added, removed, replaced (or maybe): the value can change
        return True

    def stack(self, stack: str) -> tuple[dict[str, frozenset[PropertyDetail]], dict[str, str]]:
        """Per row of the stack: its phantom details; and the rows phantom in every detail."""
        if not self.updated(stack):
            return {}, {}
        fed = {
            name: source
            for name, source in self.feeds(stack).items()
            if self.output_unchanged(*source)
        }
        if not fed:
            return {}, {}
        old = self.old(stack).get("Resources") or {}
        new = self.new(stack).get("Resources") or {}
        rows = {
            lid: rc
            for lid, rc in self.rows.get(stack, {}).items()
            if rc.action is ChangeAction.MODIFY
            and lid in old
            and lid in new
            and old[lid].get("Type") == new[lid].get("Type")
        }

        def same_text(lid: str, name: str) -> bool:
            return _properties(old[lid]).get(name) == _properties(new[lid]).get(name)

        details: dict[str, frozenset[PropertyDetail]] = {}
        whole: dict[str, str] = {}
        changed = True
        while changed:  # a row proven phantom can prove the rows that refer to it
            changed = False
            for lid, rc in rows.items():
                proven = frozenset(
                    d
                    for d in rc.details
                    if d.evaluation == "Dynamic"
                    and same_text(lid, d.name)
                    and (
                        (d.source == "ParameterReference" and d.causing in fed)
                        or (d.source in _DYNAMIC_REFERENCES and d.causing.split(".")[0] in whole)
                    )
                )
                if proven != details.get(lid, frozenset()):
                    details[lid] = proven
                    changed = True
                if (
                    lid not in whole
                    and rc.details
                    and not rc.other_sources
                    and proven == frozenset(rc.details)
                    and old[lid] == new[lid]
                ):
                    whole[lid] = _why(
                        [(d.causing, fed[d.causing]) for d in rc.details if d.causing in fed],
                        [d.causing.split(".")[0] for d in rc.details if d.causing not in fed],
                    )
                    changed = True
        # a row with a detail besides (a Tags or Metadata one, which never requires
        # replacement, or a property this proof does not explain) is a real change: its
        # phantom details are set aside and the rest judged, its Tags and policies on the
        # template diff (judge_in_place), as for every row
        return {lid: d for lid, d in details.items() if d}, whole


def _why(parameters: list[tuple[str, tuple[str, str]]], resources: list[str]) -> str:
    causes = [
        f"parameter {name} is fed by {source}'s output {output}"
        for name, (source, output) in dict(parameters).items()
    ]
    causes += [f"{name} is itself such a row" for name in dict.fromkeys(resources)]
    return (
        "no change: "
        + "; ".join(causes)
        + f", which AWS cannot resolve when it makes the change set ({TRACKER}); its source "
        "does not change"
    )


def prove(
    cfn: Any, rows: list[tuple[str, ResourceChange]], root_stack_id: str, build: BuildResult
) -> Phantoms:
    """The rows and details of a root change set (its rows with every nested stack's, as
    `(stack path, row)`) proven phantom. Reads the deployed templates only when a nested row
    shows a Dynamic change at all."""
    by_stack: dict[str, dict[str, ResourceChange]] = {}
    for stack, rc in rows:
        by_stack.setdefault(stack, {})[rc.logical_id] = rc
    suspects = sorted(
        stack
        for stack, found in by_stack.items()
        if stack
        and "." not in stack
        and any(d.evaluation == "Dynamic" for rc in found.values() for d in rc.details)
    )
    roots = [rc for rc in by_stack.get("", {}).values() if rc.resource_type == NESTED_STACK]
    named = {d.causing for rc in roots for d in rc.details if ".Outputs." in d.causing}
    if not suspects and not named:
        return NONE
    proof = _Proof(by_stack, cfn.template, cfn.template(root_stack_id), build)
    details: dict[ResourcePath, frozenset[PropertyDetail]] = {}
    whole: dict[ResourcePath, str] = {}
    for stack in suspects:
        found, phantom_rows = proof.stack(stack)
        details.update({ResourcePath(stack, lid): d for lid, d in found.items()})
        whole.update({ResourcePath(stack, lid): why for lid, why in phantom_rows.items()})
    outputs = frozenset(
        causing
        for causing in named
        if (fed := _feed({"Fn::GetAtt": causing})) and proof.output_unchanged(*fed)
    )
    return Phantoms(details, whole, outputs)
