"""Where an adoption stands, read from AWS (never from a local file: the next command may run on
another machine), and the refusal every other command that would change the environment gives
until `adopt` has finished (docs/adopt.md, *Interrupted*).

An adoption is unfinished while a service's standalone stack (`{root}-{Service}-adopted`) is not
yet held by the root, or while the root's deployed template still holds the placeholder that
adopt created it with.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mirror_infra.aws.cfn_answers import StackInfo
from mirror_infra.aws.status import StackStatus
from mirror_infra.build import service_ids
from mirror_infra.deploy.context import Deployment
from mirror_infra.errors import AdoptionUnfinished

SUFFIX = "-adopted"
# a template needs a resource, and nesting needs an existing parent: the root is created
# holding only this, which holds nothing
PLACEHOLDER = "AdoptionPlaceholder"
PLACEHOLDER_TYPE = "AWS::CloudFormation::WaitConditionHandle"


def standalone_name(root: str, service: str) -> str:
    """The stack a service is made in before it is nested; it keeps this name once nested."""
    return f"{root}-{service}{SUFFIX}"


@dataclass
class Where:
    root: StackInfo | None
    placeholder: bool = False  # the root's deployed template holds PLACEHOLDER
    standalone: dict[str, StackInfo] = field(default_factory=dict)  # not yet nested
    nested: dict[str, StackInfo] = field(default_factory=dict)  # made standalone, now nested

    @property
    def unfinished(self) -> bool:
        return bool(self.standalone) or self.placeholder

    def describe(self) -> str:
        parts = []
        if self.standalone:
            parts.append(
                f"stack(s) {', '.join(s.name for s in self.standalone.values())} not yet nested"
            )
        if self.placeholder:
            parts.append(f"{self.root.name} still holds only what adopt created it with")
        return "; ".join(parts)


def read(dep: Deployment) -> Where:
    """What AWS shows of an adoption of this environment."""
    cfn = dep.cfn
    where = Where(cfn.stack(dep.stack_name))
    for service in service_ids():
        found = cfn.stack(standalone_name(dep.stack_name, service))
        if found is None:
            continue
        if found.parent_id:
            where.nested[service] = found
        else:
            where.standalone[service] = found
    if where.root is not None and where.root.status is not StackStatus.REVIEW_IN_PROGRESS:
        # in any state, stuck ones included: a stuck root is an unfinished adoption too
        resources = cfn.template(where.root.stack_id).get("Resources", {})
        where.placeholder = PLACEHOLDER in resources
    return where


def refuse_unfinished(dep: Deployment) -> None:
    """Refuse, in one line that sends the user to `adopt`, while an adoption is unfinished:
    anything else run against the half-made stacks could advise removing what adopt imported."""
    where = read(dep)
    if not where.unfinished:
        return
    raise AdoptionUnfinished(
        f"an adoption of {dep.cfg.name} did not finish ({where.describe()}); nothing else may "
        f"change the environment until it has: run '{dep.tool_command('adopt')}' to finish it"
    )
