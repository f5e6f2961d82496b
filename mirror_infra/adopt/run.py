"""`adopt`'s steps after the survey (docs/adopt.md): create the stacks around what exists, import
what exists into each nested stack, converge to the adoption build, finish, check drift.

Nothing here writes to an existing resource: an import only records it in a stack, and the
converge step is an ordinary plan, judged by the same data-safety rules as any other (a change
that would replace, delete or lose data stops it before it runs).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mirror_infra.adopt import saved as saving
from mirror_infra.adopt import templates
from mirror_infra.adopt.survey import Action, Survey
from mirror_infra.aws.cfn_answers import StackInfo
from mirror_infra.aws.status import StackStatus
from mirror_infra.build import dump, sha256
from mirror_infra.deploy import change_sets, finishing, flow
from mirror_infra.deploy import operation as operating
from mirror_infra.deploy import plan as planning
from mirror_infra.deploy.context import Deployment
from mirror_infra.deploy.package import put_if_absent, upload_nested
from mirror_infra.errors import Aborted


@dataclass
class Adopted:
    stack_id: str
    imported: dict[str, list[str]] = field(default_factory=dict)  # nested stack -> logical ids
    converge: planning.Plan | None = None
    finish: finishing.Finish | None = None
    retained: set[str] = field(default_factory=set)  # stateful resources kept at Retain


def refuse_conflicts(survey: Survey, env: str) -> None:
    if survey.conflicts:
        first = survey.conflicts[0]
        raise templates.AdoptError(
            f"nothing changed: {len(survey.conflicts)} resource(s) cannot be adopted as they are "
            f"(first: {first.path} {first.physical_id}: {first.why}); rename or move the "
            f"existing resource, or change params/{env}.yaml, then run 'adopt' again"
        )


def refuse_unsettled(dep: Deployment, info: StackInfo | None) -> None:
    """Refuse a root stack that adopt can neither go on from nor start over on, naming the way
    out; none, one to go on from (usable, REVIEW_IN_PROGRESS), an empty failed create (deleted
    first) and one still in progress (waited for) pass."""
    if info is None or info.status.in_progress:
        return
    if info.status in (StackStatus.ROLLBACK_COMPLETE, StackStatus.REVIEW_IN_PROGRESS):
        return
    planning.check_stack_can_change(dep, info)  # stuck: the way out named
    if not info.status.usable:
        raise templates.AdoptError(
            f"{dep.stack_name} is {info.status}: settle it first ('mirror-infra status --env "
            f"{dep.cfg.name}')"
        )


@dataclass
class Hooks:
    """How `adopt` talks to its caller."""

    flow: flow.Hooks
    # the survey, and whether the nonce exists, shown before anything is refused or asked
    on_survey: Callable[[Survey, bool], None] = lambda survey, nonce: None
    # asked before a survey made in this run is adopted; False aborts
    confirm: Callable[[Survey], bool] = lambda survey: True


@dataclass
class Outcome:
    survey: Survey
    saved: Path | None = None  # --out: the survey was saved there, nothing else done
    adopted: Adopted | None = None  # None: nothing to adopt (or only saved)
    drift: list = field(default_factory=list)  # what the adopted resources differ in


def run(dep: Deployment, hooks: Hooks, out: Path | None = None, saved: dict | None = None):
    """`adopt`, start to finish: survey (read-only), refuse conflicts and a stack it cannot go
    on from, then save the survey to `out`, or check a `saved` one still holds, or ask; then
    adopt and report the adopted resources' drift."""
    from mirror_infra.adopt.survey import Surveyor
    from mirror_infra.aws.inventory import Inventory
    from mirror_infra.build import build

    built = build(dep.cfg.name)
    inventory = Inventory(dep.target.client, dep.target.account_id, dep.target.region)
    survey = Surveyor(inventory, dep.target.region, dep.stack_name).survey(built)
    hooks.on_survey(survey, dep.ssm.parameter(dep.names.nonce_parameter(1)) is not None)
    refuse_conflicts(survey, dep.cfg.name)
    refuse_unsettled(dep, dep.cfn.stack(dep.stack_name))  # before a survey is saved
    outcome = Outcome(survey)
    if not survey.adopted:
        return outcome
    hashes = planning.template_hashes(built)
    if saved is not None:
        saving.check_fresh(saved, dep.cfg.name, dep.target.region, survey, hashes)
    if out is not None:
        saving.save(out, dep.cfg.name, dep.target.region, survey, hashes)
        outcome.saved = out
        return outcome
    if saved is None and not hooks.confirm(survey):
        raise Aborted("nothing changed; pass --yes to adopt without asking")
    outcome.adopted = adopt(dep, survey, hooks.flow)
    outcome.drift = _drift_of_adopted(dep, survey, hooks.flow.say)
    return outcome


def _drift_of_adopted(dep: Deployment, survey: Survey, say: Callable[[str], None]) -> list:
    """AWS recommends drift detection after an import: what differs from the templates."""
    from mirror_infra.checks.base import open_environment
    from mirror_infra.checks.drift import detect

    say("detecting drift on the adopted resources ...")
    report = detect(open_environment(dep))
    adopted = {r.path for r in survey.adopted}
    return [d for d in report.differences if f"{d.stack}.{d.resource}" in adopted]


def adopt(dep: Deployment, survey: Survey, hooks: flow.Hooks) -> Adopted:
    """Bring the surveyed environment under the stacks; the survey has no conflicts. Every
    change set made here is executed or deleted, whatever happens."""
    refuse_conflicts(survey, dep.cfg.name)  # before any call, whoever calls
    with change_sets.owned(dep, hooks.say):
        return _adopt(dep, survey, hooks)


def _adopt(dep: Deployment, survey: Survey, hooks: flow.Hooks) -> Adopted:
    info = operating.wait_if_busy(dep)
    if info is not None and info.status is StackStatus.ROLLBACK_COMPLETE:
        # an earlier adopt (or apply) whose create failed: the stack holds nothing
        hooks.say(f"{dep.stack_name} is ROLLBACK_COMPLETE from a failed create; deleting it first")
        operating.delete_failed_create(dep, hooks.on_event)
        info = None
    refuse_unsettled(dep, info)
    resuming = info is not None and info.status.usable
    with tempfile.TemporaryDirectory(prefix="mirror-infra-adopt-") as scratch:
        adopted_ids = _adopted_ids(dep, survey, info.stack_id if resuming else "")
        adoption = templates.adoption_build(dep.cfg, adopted_ids, Path(scratch) / "adoption")
        prepared = flow.prepare(dep, hooks, adoption)
        if resuming:
            hooks.say(
                f"step 1 of 3: {dep.stack_name} exists from an adoption that did not finish; "
                "going on from there"
            )
            adopted = Adopted(info.stack_id)
        else:
            skeleton = templates.skeleton(adoption, survey, Path(scratch) / "skeleton")
            upload_nested(dep.s3, prepared.bucket, dep.artifacts_prefix, skeleton)
            hooks.say("step 1 of 3: create the stacks around the resources that exist")
            created = planning.create_plan(dep, skeleton, prepared.bucket)
            hooks.on_plan(created)
            flow.execute(dep, created, set(), hooks)
            adopted = Adopted(created.stack_id)

        hooks.say("step 2 of 3: import the existing resources, one nested stack at a time")
        stacks = dep.cfn.nested_stacks(adopted.stack_id)
        for stack in adoption.nested:
            rows = [r for r in survey.imported if r.stack == stack]
            if rows:
                _import(dep, prepared.bucket, stacks[stack], stack, rows, adoption, hooks)
                adopted.imported[stack] = [r.logical_id for r in rows]

        adopted.retained = adopted_ids
        _record_imports(dep, adopted.stack_id, prepared.bucket, Path(scratch) / "recorded", hooks)
        hooks.say("step 3 of 3: converge to the environment's templates")
        converge = planning.create_plan(dep, adoption, prepared.bucket)
        hooks.on_plan(converge)
        if converge.has_changes:  # refused as any plan when it replaces, deletes or loses data
            flow.execute(dep, converge, set(), hooks)
        adopted.converge = converge
    adopted.finish = finishing.finish(dep, hooks.say)
    return adopted


def _record_imports(dep: Deployment, root_id: str, bucket: str, into: Path, hooks) -> None:
    """The imports changed the nested stacks directly, so the root still records the skeleton's
    templates; a failed converge would roll the nested stacks back to those, without the
    imported resources. An update of the root to what each nested stack holds now (no
    resource changes) makes the imports part of what a rollback returns to."""
    stacks = dep.cfn.nested_stacks(root_id)
    nested = {logical_id: dep.cfn.template(stack_id) for logical_id, stack_id in stacks.items()}
    record = templates.recorded(dep.cfg.name, dep.cfn.template(root_id), nested, into)
    upload_nested(dep.s3, bucket, dep.artifacts_prefix, record)
    plan = planning.create_plan(dep, record, bucket)
    if plan.has_changes:
        hooks.say("recording the imports in the root stack (no resource changes)")
        flow.execute(dep, plan, set(), hooks)


def _adopted_ids(dep: Deployment, survey: Survey, root_id: str) -> set[str]:
    """The stateful resources to keep at Retain: those imported now, and those an earlier
    adopt imported (found in the environment's stacks at Retain)."""
    ids = {r.logical_id for r in survey.imported if r.stateful}
    managed = [r for r in survey.rows if r.action is Action.MANAGED and r.stateful]
    if root_id and managed:
        stacks = dep.cfn.nested_stacks(root_id)
        deployed = {stack: dep.cfn.template(stacks[stack]) for stack in {r.stack for r in managed}}
        ids |= {
            r.logical_id
            for r in managed
            if deployed[r.stack]["Resources"].get(r.logical_id, {}).get("DeletionPolicy")
            == "Retain"
        }
    return ids


def _import(
    dep: Deployment,
    bucket: str,
    stack_id: str,
    stack: str,
    rows: list,
    adoption,
    hooks: flow.Hooks,
) -> None:
    """An IMPORT change set on the nested stack itself: AWS refuses IncludeNestedStacks for
    IMPORT, and a resource to import names no stack path."""
    body = templates.import_template(
        dep.cfn.template(stack_id), adoption.nested[stack], [r.logical_id for r in rows]
    )
    text = dump(body).encode()
    key = f"{dep.artifacts_prefix}import-{stack.lower()}-{sha256(text)[:16]}.json"
    put_if_absent(dep.s3, bucket, key, text)
    parameters = dep.cfn.stack(stack_id).parameters
    request = change_sets.Request(
        stack=stack_id,
        name=change_sets.stamped("mirror-infra-adopt"),
        kind=change_sets.ChangeSetType.IMPORT,
        description=f"mirror-infra adopt of {dep.cfg.name}: {stack}",
        template_url=dep.s3.template_url(bucket, key),
        previous_parameters=tuple(parameters),
        to_import=tuple(
            {
                "ResourceType": r.type,
                "LogicalResourceId": r.logical_id,
                "ResourceIdentifier": r.identifier,
            }
            for r in rows
        ),
    )
    made = change_sets.create(dep, request, f"the import change set on {stack}")
    if made.outcome is not change_sets.Outcome.READY:  # the flow's ledger deletes it
        raise templates.AdoptError(f"AWS refused to import into {stack}: {made.reason}")
    hooks.say(f"importing {', '.join(r.path for r in rows)}")
    execution = operating.Execution(dep, stack_id)
    execution.begin(lambda token: dep.cfn.execute(made.change_set_id, token))
    dep.ledger.executed(made.change_set_id)
    finished = flow.follow(dep, execution, hooks)
    if finished.status is not StackStatus.IMPORT_COMPLETE:
        raise flow.ApplyFailed(
            f"the import into {stack} ended {finished.status}: {finished.reason}; the existing "
            "resources are untouched (an import never changes them)",
            finished,
        )
