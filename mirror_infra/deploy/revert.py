"""`plan --revert-drift`: drift-aware change sets (`DeploymentMode: REVERT_DRIFT`,
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/drift-aware-change-sets.html)
that put each drifted property back to its deployed template's value.

No AWS page documents a drift-aware change set with `IncludeNestedStacks` or on a nested stack
(docs/adopt.md, *Reverting drift*): every nested stack gets a change set of its own, on its
deployed template and parameters (`UsePreviousTemplate`), and the plan says that no page
documents it (`UNDOCUMENTED`); tests/conformance/test_drift_aware.py settles it on an account.
The plan holds drift reverts and nothing else. The root stack holds only nested stacks, which have
no drift of their own. Each revert is judged like any change: putting a template's value back
can lose data too (PITR turned on out of band, and the template says off), and is refused
unless named.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from mirror_infra.aws.cfn_answers import ChangeSet, ResourceChange
from mirror_infra.aws.status import ChangeAction
from mirror_infra.deploy import change_sets
from mirror_infra.deploy.changes import Change, read_changes
from mirror_infra.deploy.context import Deployment
from mirror_infra.deploy.operation import Execution, Finished
from mirror_infra.deploy.plan import Drifted, Plan
from mirror_infra.deploy.risk import STATEFUL_TYPES, Risk, in_place_losses
from mirror_infra.errors import DeployError

REVERT_DRIFT = "REVERT_DRIFT"
DELETED = "DELETED"  # a row's ResourceDriftStatus: deleted out of band
RECREATED = "re-created (deleted out of band)"
RECREATED_EMPTY = "re-created (deleted out of band): a new, empty one; its data went with it"
# said when the plan runs (SPEC §3: where no page documents a step, the command says so)
UNDOCUMENTED = (
    "note: no AWS page documents a drift-aware change set on a nested stack (AWS recommends "
    "running updates to nested stacks from the parent stack, and documents REVERT_DRIFT only on "
    "a stack); this plan makes one on each nested stack directly. "
    "tests/conformance/test_drift_aware.py settles it on an account (README: On a real account)"
)


def create(dep: Deployment, plan: Plan) -> None:
    """Fill `plan` (an empty update plan) with a drift-aware change set per drifted stack."""
    cfn = dep.cfn
    root = cfn.stack(dep.stack_name)
    if root is None or not root.status.usable:
        raise DeployError(f"{dep.stack_name} is not deployed: there is no drift to put back")
    plan.stack_last_updated = root.last_updated
    plan.stack_id = root.stack_id
    name = change_sets.stamped("mirror-infra-revert-drift")
    for node in cfn.tree(root.stack_id):
        if not node.path:
            continue  # the root: nested stacks only
        info = cfn.stack(node.stack_id)
        request = change_sets.Request(
            stack=node.stack_id,
            name=name,
            kind=change_sets.ChangeSetType.UPDATE,
            description=f"mirror-infra revert-drift of {dep.cfg.name}: {node.path}",
            use_previous_template=True,
            previous_parameters=tuple(info.parameters),
            deployment_mode=REVERT_DRIFT,
        )
        made = change_sets.create(dep, request, "a drift-aware change set", values=True)
        if made.outcome is change_sets.Outcome.EMPTY:
            continue
        if made.outcome is change_sets.Outcome.FAILED:
            raise DeployError(f"the drift-aware change set on {node.path} failed: {made.reason}")
        described = made.described
        if not described.changes:
            dep.ledger.discard(made.change_set_id)
            continue
        plan.reverts.append(
            {"stack": node.path, "stack_id": node.stack_id, "change_set_id": made.change_set_id}
        )
        plan.changes += [_judged(c, rc) for c, rc in _rows(cfn, described, node.path)]
        plan.drifted += [
            Drifted(f"{node.path}.{rc.logical_id}", v.path, v.template, v.previous, v.actual)
            for rc in described.changes
            for v in rc.values
            if v.previous is not None
        ]
    if plan.reverts:
        plan.note = (
            "drift-aware change sets, one per nested stack: each puts the drifted properties "
            "back to the deployed template and re-creates what was deleted out of band; "
            + UNDOCUMENTED
        )


def execute(dep: Deployment, plan: Plan, follow) -> list[Finished]:
    """Run each nested stack's drift-aware change set in turn; `follow(execution)` follows
    one operation to its end. Returns what each ended as; those not run are left to the
    flow's ledger, which deletes them."""
    ended = []
    for revert in plan.reverts:
        execution = Execution(dep, revert["stack_id"])
        execution.begin(partial(dep.cfn.execute, revert["change_set_id"]))
        if dep.ledger is not None:
            dep.ledger.executed(revert["change_set_id"])
        finished = follow(execution)
        ended.append(finished)
        if not finished.ok:
            break
    return ended


def _rows(cfn, described: ChangeSet, stack: str) -> list[tuple[Change, ResourceChange]]:
    return list(zip(read_changes(cfn, described, stack), described.changes, strict=True))


def _judged(change: Change, rc: ResourceChange) -> Change:
    """A revert that loses data in place (the actual value kept more than the template's), or
    re-creates a resource deleted out of band (new and empty when it held data)."""
    if rc.drift_status == DELETED:
        # "DELETED – The resource was deleted outside CloudFormation" (API_ResourceChange);
        # executing re-creates it (What's New, Nov 2025). No page says which Action the row
        # carries, so the drift status decides, whatever the Action.
        if change.resource_type in STATEFUL_TYPES:
            return replace(change, risk=Risk.REPLACES_DATA, reason=RECREATED_EMPTY)
        return replace(change, risk=Risk.SAFE, reason=RECREATED)
    if change.action is ChangeAction.SYNC_WITH_ACTUAL:
        # "reset the drift status of the resource without modifying the resource" (AWS)
        return replace(change, risk=Risk.SAFE)
    if change.risk is not Risk.SAFE:
        return change
    actual = {"Resources": {rc.logical_id: {"Type": rc.resource_type, "Properties": rc.actual}}}
    wanted = {"Resources": {rc.logical_id: {"Type": rc.resource_type, "Properties": rc.template}}}
    reasons = in_place_losses(actual, wanted).get(rc.logical_id)
    if reasons:
        return replace(change, risk=Risk.LOSES_DATA, reason="; ".join(reasons))
    return change
