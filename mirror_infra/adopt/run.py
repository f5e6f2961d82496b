"""`adopt`'s steps after the survey (docs/adopt.md, *The steps*), each an operation AWS documents
for that use (docs/aws-operations.md): every service made a standalone stack — created by IMPORT
from its existing resources (import-resources-manually), or by CREATE when none exists — and
brought to its template by an ordinary update; the root created holding nothing; the standalone
stacks nested into it by IMPORT (resource-import-nested-stacks); one converge from the root.
No change set ever runs on a nested stack.

Each step first reads what AWS holds (state.py), so that `adopt` run again after any
interruption, on any machine, goes on from where the last run stopped. Nothing here writes to an
existing resource's data: an import only records it in a stack, and every update is judged by
the data-safety rules (a change that would replace, delete or lose data stops it before it runs).
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from mirror_infra.adopt import saved as saving
from mirror_infra.adopt import state, templates
from mirror_infra.adopt.survey import Action, Survey, refs, resolve_name
from mirror_infra.aws.cfn_answers import StackInfo
from mirror_infra.aws.status import StackStatus
from mirror_infra.build import BuildResult, dump, sha256
from mirror_infra.deploy import change_sets, finishing, flow
from mirror_infra.deploy import operation as operating
from mirror_infra.deploy import plan as planning
from mirror_infra.deploy.changes import read_changes
from mirror_infra.deploy.context import Deployment
from mirror_infra.deploy.package import put_if_absent
from mirror_infra.deploy.risk import Risk, in_place_losses
from mirror_infra.errors import Aborted, AdoptError, ApplyFailed

NESTED_STACK = "AWS::CloudFormation::Stack"


@dataclass
class Adopted:
    stack_id: str
    imported: dict[str, list[str]] = field(default_factory=dict)  # service -> logical ids
    converge: planning.Plan | None = None
    finish: finishing.Finish | None = None
    retained: set[str] = field(default_factory=set)  # stateful resources kept at Retain


def refuse_conflicts(survey: Survey, env: str) -> None:
    if survey.conflicts:
        first = survey.conflicts[0]
        raise AdoptError(
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
        raise AdoptError(
            f"{dep.stack_name} is {info.status}: settle it first ('{dep.tool_command('status')}')"
        )


def refuse_deployed(dep: Deployment, survey: Survey, where: state.Where) -> None:
    """An environment this tool deployed, with resources outside its stacks under its names:
    AWS documents importing into a stack, not into a nested stack from its root."""
    info = where.root
    if info is None or not info.status.usable or where.unfinished or not survey.imported:
        return
    first = survey.imported[0]
    raise AdoptError(
        f"nothing changed: {dep.stack_name} already holds the environment, and "
        f"{len(survey.imported)} resource(s) of its names exist outside its stacks (first: "
        f"{first.path} {first.physical_id}); adopt brings an environment that has no stacks under "
        "them (no AWS page documents importing into a nested stack); rename or remove those "
        "resources, keeping their data, then run 'plan'"
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
    refuse_unsettled(dep, info)
    where = state.read(dep)
    refuse_deployed(dep, survey, where)
    if where.unfinished:
        hooks.say(f"an adoption did not finish ({where.describe()}); going on from there")
    with tempfile.TemporaryDirectory(prefix="mirror-infra-adopt-") as scratch:
        retained = _adopted_ids(dep, survey)
        adoption = templates.adoption_build(dep.cfg, retained, Path(scratch) / "adoption")
        bucket = flow.prepare(dep, hooks, adoption).bucket
        steps = _Steps(dep, hooks, adoption, bucket, Path(scratch))
        adopted = Adopted("", retained=retained)
        root_values = planning.root_parameters(dep, bucket, adoption)
        pseudo = _pseudo(dep)
        outputs: dict[str, dict[str, str]] = {}
        root = where.root if where.root is not None and where.root.status.usable else None
        held = dep.cfn.nested_stacks(root.stack_id) if root is not None else {}
        for service in _dependency_order(adoption):
            if service in held:  # nested already (by an earlier adopt, or an apply)
                outputs[service] = dep.cfn.stack(held[service]).outputs
                continue
            parameters = _parameters(steps.defined[service], root_values, outputs, pseudo)
            rows = [r for r in survey.imported if r.stack == service]
            made = steps.standalone(service, parameters, rows, where.standalone.get(service))
            if rows:
                adopted.imported[service] = [r.logical_id for r in rows]
            outputs[service] = made.outputs
        adopted.stack_id = steps.root()
        steps.nest(adopted.stack_id)
        hooks.say(f"converge {dep.stack_name} to the environment's templates, from the root")
        converge = planning.create_plan(dep, adoption, bucket)
        hooks.on_plan(converge)
        if converge.has_changes:  # refused as any plan when it replaces, deletes or loses data
            flow.execute(dep, converge, set(), hooks)
        adopted.converge = converge
    adopted.finish = finishing.finish(dep, hooks.say)
    return adopted


class _Steps:
    """The change sets of one adopt run, each on a stack this run or an earlier one made."""

    def __init__(
        self, dep: Deployment, hooks: flow.Hooks, adoption: BuildResult, bucket: str, scratch: Path
    ) -> None:
        self.dep, self.hooks, self.adoption, self.bucket = dep, hooks, adoption, bucket
        self.scratch = scratch
        self.defined = templates.read(adoption.root)["Resources"]
        self.stamp = time.strftime("%Y%m%d-%H%M%S")

    # --- one standalone stack per service ------------------------------------------------

    def standalone(
        self, service: str, parameters: dict[str, str], rows: list, existing: StackInfo | None
    ) -> StackInfo:
        """The service's standalone stack, made from what exists and brought to its template."""
        dep = self.dep
        name = state.standalone_name(dep.stack_name, service)
        if existing is not None and not dep.cfn.resources(existing.stack_id):
            # a create or import by a new-stack change set that never ran, or rolled back
            self.hooks.say(f"{name} is {existing.status} and holds nothing; deleting it first")
            self._delete_empty(existing)
            existing = None
        elif existing is not None and not existing.status.usable:
            raise AdoptError(
                f"{name} is {existing.status} ({existing.reason or 'no reason given'}); settle it "
                "(continue its rollback in the CloudFormation console), then run 'adopt' again"
            )
        path = self.adoption.nested[service]
        template = templates.read(path)
        url = dep.s3.template_url(self.bucket, f"{dep.artifacts_prefix}{path.name}")
        if existing is None and rows:
            self.hooks.say(
                f"{service}: create {name} from the existing "
                + ", ".join(r.path for r in rows)
                + " (an IMPORT change set on a new stack)"
            )
            body = templates.import_template(template, [r.logical_id for r in rows])
            self._run(
                name,
                "IMPORT",
                f"the import that creates {name}",
                self._upload(f"import-{service.lower()}", body),
                parameters,
                to_import=[
                    {
                        "ResourceType": r.type,
                        "LogicalResourceId": r.logical_id,
                        "ResourceIdentifier": r.identifier,
                    }
                    for r in rows
                ],
            )
        elif existing is None:
            self.hooks.say(f"{service}: nothing of it exists; create {name}")
            self._run(name, "CREATE", f"the create of {name}", url, parameters)
        made = dep.cfn.stack(name)
        deployed = dep.cfn.template(made.stack_id)
        if deployed != template:
            self.hooks.say(f"{service}: bring {name} to its template")
            self._run(
                name,
                "UPDATE",
                f"the update of {name}",
                url,
                parameters,
                judged=(deployed, template),
            )
            made = dep.cfn.stack(name)
        return made

    # --- the root --------------------------------------------------------------------------

    def root(self) -> str:
        """The root, created holding nothing when it is not there yet; its stack id."""
        dep = self.dep
        info = dep.cfn.stack(dep.stack_name)
        if info is not None and info.status.usable:
            return info.stack_id
        self.hooks.say(f"create {dep.stack_name}, holding nothing yet")
        empty = templates.placeholder_root(self.adoption, self.scratch / "root")
        created = planning.create_plan(dep, empty, self.bucket)
        self.hooks.on_plan(created)
        flow.execute(dep, created, set(), self.hooks)
        return created.stack_id

    def nest(self, root_id: str) -> None:
        """Import each standalone stack the root does not hold yet as its nested stack."""
        dep = self.dep
        held = dep.cfn.nested_stacks(root_id)
        todo = [s for s in self.adoption.nested if s not in held]
        if not todo:
            return
        names = {s: state.standalone_name(dep.stack_name, s) for s in todo}
        self.hooks.say(f"nest {', '.join(names.values())} into {dep.stack_name} by import")
        ids = {s: dep.cfn.stack(names[s]).stack_id for s in todo}
        body = templates.nesting_template(dep.cfn.template(root_id), self.adoption, todo)
        previous = dep.cfn.stack(root_id).parameters
        self._run(
            root_id,
            "IMPORT",
            f"the import that nests the services into {dep.stack_name}",
            self._upload("nest-root", body),
            {k: None for k in previous},
            to_import=[
                {
                    "ResourceType": NESTED_STACK,
                    "LogicalResourceId": s,
                    "ResourceIdentifier": {"StackId": ids[s]},
                }
                for s in todo
            ],
        )

    # --- one change set ----------------------------------------------------------------------

    def _upload(self, stem: str, body: dict) -> str:
        dep = self.dep
        text = dump(body).encode()
        key = f"{dep.artifacts_prefix}adopt-{stem}-{sha256(text)[:16]}.json"
        put_if_absent(dep.s3, self.bucket, key, text)
        return dep.s3.template_url(self.bucket, key)

    def _run(
        self,
        stack: str,
        kind: str,
        what: str,
        url: str,
        parameters: dict[str, str | None],
        judged: tuple[dict, dict] | None = None,
        to_import: list | tuple = (),
    ) -> None:
        """Create the change set, show it, refuse it when it would replace, delete or lose
        data, execute it and follow it to its end. `parameters` values of None keep theirs."""
        dep = self.dep
        request = change_sets.Request(
            stack=stack,
            name=f"mirror-infra-adopt-{self.stamp}",
            kind=change_sets.ChangeSetType(kind),
            description=f"mirror-infra adopt of {dep.cfg.name}",
            template_url=url,
            parameters={k: v for k, v in parameters.items() if v is not None},
            previous_parameters=tuple(k for k, v in parameters.items() if v is None),
            tags=dict(dep.cfg.tags),
            to_import=tuple(to_import),
        )
        made = change_sets.create(
            dep, request, f"the change set for {what}", makes_stack=kind != "UPDATE"
        )
        if made.outcome is change_sets.Outcome.EMPTY and kind == "UPDATE":
            return
        if made.outcome is not change_sets.Outcome.READY:  # the flow's ledger deletes it
            raise AdoptError(f"AWS refused {what}: {made.reason}; nothing of it ran")
        change_set_id, stack_id, described = made.change_set_id, made.stack_id, made.described
        plan = planning.Plan(
            env=dep.cfg.name,
            region=dep.target.region,
            stack_name=dep.cfn.stack(stack_id).name,
            change_set_id=change_set_id,
            create=kind != "UPDATE",
            changes=self._judged(read_changes(dep.cfn, described), judged),
            template_hashes={},
            parameters={},
            stack_last_updated=None,
        )
        if kind == "UPDATE":  # an import or a create was said above, resource by resource
            self.hooks.on_plan(plan)
        refused = plan.refused(set())
        if refused:
            dep.ledger.discard(change_set_id)
            raise AdoptError(
                f"nothing of {what} ran: it would "
                + ", ".join(f"{c.risk} ({c.logical_id})" for c in refused)
                + "; adopt changes no data: bring the existing resource to the template by "
                "hand, or change the template, then run 'adopt' again"
            )
        execution = operating.Execution(dep, stack_id)
        execution.begin(lambda token: dep.cfn.execute(change_set_id, token))
        dep.ledger.executed(change_set_id)
        finished = flow.follow(dep, execution, self.hooks)
        if not finished.ok:
            raise ApplyFailed(
                f"{what} ended {finished.status}: {finished.reason}; the existing resources are "
                "untouched; run 'adopt' again once the cause is fixed",
                finished,
            )

    @staticmethod
    def _judged(changes: list, judged: tuple[dict, dict] | None) -> list:
        """An update's rows, with the in-place losses its templates show (a change set names
        properties, not values)."""
        if judged is None:
            return changes
        losses = in_place_losses(*judged)
        return [
            replace(c, risk=Risk.LOSES_DATA, reason="; ".join(losses[c.logical_id]))
            if c.logical_id in losses and c.risk is Risk.SAFE
            else c
            for c in changes
        ]

    def _delete_empty(self, info: StackInfo) -> None:
        """Delete, by its id, a stack adopt made that holds nothing."""
        execution = operating.Execution(self.dep, info.stack_id)
        execution.begin(lambda token: self.dep.cfn.delete(info.stack_id, token))
        finished = flow.follow(self.dep, execution, self.hooks)
        if finished.status is not StackStatus.DELETE_COMPLETE:
            raise ApplyFailed(f"{info.name} ended {finished.status}", finished)


def _dependency_order(adoption: BuildResult) -> list[str]:
    """The services, each after those whose outputs its parameters read."""
    defined = templates.read(adoption.root)["Resources"]
    order: list[str] = []

    def visit(service: str) -> None:
        if service in order:
            return
        for needed in sorted(refs(defined[service].get("Properties", {})) & set(adoption.nested)):
            visit(needed)
        order.append(service)

    for service in adoption.nested:
        visit(service)
    return order


def _parameters(
    definition: dict,
    root_values: dict[str, str],
    outputs: dict[str, dict[str, str]],
    pseudo: dict[str, str],
) -> dict[str, str]:
    """What the root passes the service's stack, as values: its own parameters' values, the
    pseudo parameters (`pseudo`) and the outputs of the services made before it."""

    def value(given):
        if isinstance(given, dict) and set(given) == {"Ref"}:
            return root_values[given["Ref"]]
        if isinstance(given, dict) and set(given) == {"Fn::GetAtt"}:
            service, attribute = given["Fn::GetAtt"]
            return outputs[service][attribute.removeprefix("Outputs.")]
        if isinstance(given, dict) and set(given) == {"Fn::Sub"}:
            text = resolve_name(given, {**pseudo, **root_values})
            if text is not None:
                return text
        if isinstance(given, dict) and set(given) == {"Fn::Join"}:
            separator, parts = given["Fn::Join"]
            # a Ref to a list parameter: its value is the comma-joined list
            items = value(parts).split(",") if isinstance(parts, dict) else map(value, parts)
            return separator.join(items)
        if isinstance(given, list):
            return ",".join(value(v) for v in given)
        if isinstance(given, str | int | float | bool):
            return str(given)
        raise AdoptError(
            f"the root passes {json.dumps(given)}, which adopt cannot give a standalone stack"
        )

    parameters = definition.get("Properties", {}).get("Parameters", {})
    return {key: value(given) for key, given in parameters.items()}


def _pseudo(dep: Deployment) -> dict[str, str]:
    """The pseudo parameters' values in the target account and region, as the survey has them."""
    from mirror_infra.aws.inventory import Inventory

    found = Inventory(dep.target.client, dep.target.account_id, dep.target.region)
    return {
        "AWS::AccountId": found.account,
        "AWS::Region": found.region,
        "AWS::Partition": found.partition,
        "AWS::URLSuffix": found.url_suffix,
    }


def _adopted_ids(dep: Deployment, survey: Survey) -> set[str]:
    """The stateful resources to keep at Retain: those imported now, and those an earlier
    adopt imported (found in its stacks at Retain)."""
    ids = {r.logical_id for r in survey.imported if r.stateful}
    managed = [r for r in survey.rows if r.action is Action.MANAGED and r.stateful]
    for service in {r.stack for r in managed}:
        info = dep.cfn.stack(state.standalone_name(dep.stack_name, service))
        if info is None:
            continue
        deployed = dep.cfn.template(info.stack_id)["Resources"]
        ids |= {
            r.logical_id
            for r in managed
            if r.stack == service
            and deployed.get(r.logical_id, {}).get("DeletionPolicy") == "Retain"
        }
    return ids
