"""`plan`: a change set on the root stack with nested change sets, read back as one list of
changes, each classed as safe, replacing data or deleting data."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from mirror_infra.aws.cfn_answers import StackInfo
from mirror_infra.aws.path import ResourcePath
from mirror_infra.aws.status import ChangeAction, StackStatus
from mirror_infra.build import BuildResult
from mirror_infra.deploy import change_sets, express, phantom
from mirror_infra.deploy.changes import (
    Change,
    changes_nothing,
    expand_new_stacks,
    judge_in_place,
    judge_rows,
    read_rows,
)
from mirror_infra.deploy.context import Deployment
from mirror_infra.deploy.risk import (
    IMPOSSIBLE_WHY,
    Risk,
)
from mirror_infra.errors import (
    ConfigError,
    DeployError,
    DestructiveChangeError,
)

# 2: the target's account and endpoint saved, every field typed (deploy/stale.py compares them)
# 3: each change says whether it is a phantom (deploy/phantom.py, issue 759)
PLAN_FORMAT = 3


@dataclass(frozen=True)
class Drifted:
    """One property of a drift-aware change set's three-way comparison, as the plan shows
    it (plan --revert-drift)."""

    resource: str  # Stack.LogicalId
    property: str
    template: str
    previous: str  # the last deployment's value
    actual: str


@dataclass
class Plan:
    env: str
    region: str
    stack_name: str
    change_set_id: str | None  # None: nothing to change
    create: bool  # the stack does not exist yet
    changes: list[Change]
    template_hashes: dict[str, str]
    parameters: dict[str, str]
    stack_last_updated: str | None
    allowed: list[str] = field(default_factory=list)
    note: str = ""
    stack_id: str = ""  # for a create: the stack its change set made
    # pre-deployment validation warnings (a FAIL never makes a plan: it is an error)
    validation: list[str] = field(default_factory=list)
    # a create on its first-create copy (deploy/first_create.py): these get their guards back
    # (deletion protection, Retain) by an update right after
    protect_after: list[str] = field(default_factory=list)
    # plan --revert-drift: a drift-aware change set per nested stack ({stack, stack_id,
    # change_set_id}) instead of one on the root, and the drifted properties they put back
    reverts: list[dict] = field(default_factory=list)
    drifted: list[Drifted] = field(default_factory=list)
    express: bool = False  # its change set is in express mode (DescribeChangeSet says so)
    # the target beyond env and region: the account behind the credentials, and the endpoint
    # ("" for AWS's own); a saved plan runs only there (deploy/stale.py)
    account: str = ""
    endpoint: str = ""

    @property
    def has_changes(self) -> bool:
        return bool(self.changes) or self.change_set_id is not None or bool(self.reverts)

    @property
    def executes(self) -> bool:
        """Whether there is a stack operation to run (a plan whose only rows are guards
        turned off has none: finishing does that)."""
        return self.change_set_id is not None or bool(self.reverts) or self.create

    def destructive(self) -> list[Change]:
        return [c for c in self.changes if c.risk is not Risk.SAFE]

    def refused(self, allowed: set[str]) -> list[Change]:
        """Destructive changes the user has not named, and those no name can allow."""
        named = allowed | set(self.allowed)
        return [
            c for c in self.destructive() if c.risk is Risk.IMPOSSIBLE or not c.allowed_by(named)
        ]

    def save(self, path: Path) -> None:
        data = asdict(self)
        data["format"] = PLAN_FORMAT
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Plan:
        """A plan saved by `save`, every field checked for its type (an edited file gets one
        line naming the field); whether it still fits the target is stale.check_fresh's."""
        from pydantic import ValidationError

        from mirror_infra.config import describe_validation_error

        def unsaved(why: object) -> ConfigError:
            return ConfigError(
                f"--plan {path}: not a plan saved by 'mirror-infra plan --out' ({why})"
            )

        try:
            text = path.read_text(encoding="utf-8")
            data = json.loads(text)
            if not isinstance(data, dict):
                raise unsaved(f"a JSON {type(data).__name__}, not an object")
            if data.get("format") != PLAN_FORMAT:
                raise unsaved(f"format {data.get('format')!r}, not {PLAN_FORMAT}; run 'plan' again")
            saved = _SavedPlan.model_validate_json(text)
        except FileNotFoundError:
            raise ConfigError(f"--plan {path}: no such file; save one with 'plan --out'") from None
        except IsADirectoryError:
            raise ConfigError(f"--plan {path}: is a directory, expected a saved plan") from None
        except OSError as exc:
            raise ConfigError(f"--plan {path}: cannot be read ({exc.strerror or exc})") from None
        except RecursionError:
            raise ConfigError(f"--plan {path}: nested too deeply to be a saved plan") from None
        except ValidationError as exc:
            raise unsaved(describe_validation_error(exc)) from None
        except ValueError as exc:  # not JSON, or not UTF-8
            raise unsaved(exc) from None
        fields = saved.model_dump(exclude={"format", "changes", "drifted", "reverts"})
        return cls(
            **fields,
            changes=[Change(**c.model_dump()) for c in saved.changes],
            drifted=[Drifted(**d.model_dump()) for d in saved.drifted],
            reverts=[r.model_dump() for r in saved.reverts],
        )


class _Saved(BaseModel):
    """A saved plan's parts: every field required, typed, and nothing else (an edited file is
    refused in one line naming the field)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _SavedChange(_Saved):
    stack: str
    action: ChangeAction
    logical_id: str
    resource_type: str
    replacement: str
    properties: tuple[str, ...]
    physical_id: str
    risk: Risk
    condition: str
    reason: str
    policy_action: str
    phantom: bool


class _SavedDrifted(_Saved):
    resource: str
    property: str
    template: str
    previous: str
    actual: str


class _SavedRevert(_Saved):
    stack: str
    stack_id: str
    change_set_id: str


class _SavedPlan(_Saved):
    format: int
    env: str
    region: str
    account: str
    endpoint: str
    stack_name: str
    change_set_id: str | None
    create: bool
    changes: list[_SavedChange]
    template_hashes: dict[str, str]
    parameters: dict[str, str]
    stack_last_updated: str | None
    allowed: list[str]
    note: str
    stack_id: str
    validation: list[str]
    protect_after: list[str]
    reverts: list[_SavedRevert]
    drifted: list[_SavedDrifted]
    express: bool


def target_fields(dep: Deployment) -> dict[str, str]:
    """What a plan saves of its target beyond env and region, for stale.check_fresh."""
    return {"account": dep.target.account_id, "endpoint": dep.target.endpoint_url or ""}


def root_parameters(dep: Deployment, bucket: str, build: BuildResult) -> dict[str, str]:
    """The values for the root template's parameters — only those it declares, so a template
    from an older version (an upgrade test) gets what it knows."""
    values = {
        "ArtifactsBucket": bucket,
        "ArtifactsPrefix": dep.artifacts_prefix,
        "AlertEmail": dep.cfg.alert_email,
        "AppRoleTrustedServices": ",".join(dep.cfg.app_role.trusted_services),
    }
    declared = json.loads(build.root.read_text(encoding="utf-8")).get("Parameters", {})
    return {key: value for key, value in values.items() if key in declared}


def name_conflict_hint(dep: Deployment) -> str:
    return (
        "a resource of that name already exists outside this stack: bring the existing "
        f"environment under the stacks with '{dep.tool_command('adopt')}' (CloudFormation's "
        "import; its data is kept), or rename or remove the resource (never by deleting its data)"
    )


def _shown(finding) -> str:
    where = f" at {finding.path}" if finding.path else ""
    return f"{finding.logical_id} {finding.name} ({finding.mode}){where}: {finding.reason}"


def create_plan(
    dep: Deployment, build: BuildResult, bucket: str, parameters: dict[str, str] | None = None
) -> Plan:
    """Create the change set and read it back; an empty change set is deleted at once. The
    change set belongs to the running flow's ledger (change_sets.owned). `parameters`: the
    root's values (default: from params)."""
    cfn = dep.cfn
    info = cfn.stack(dep.stack_name)
    if info is not None:
        check_stack_can_change(dep, info)
    params = root_parameters(dep, bucket, build) if parameters is None else dict(parameters)
    hashes = template_hashes(build)
    plan = Plan(
        env=dep.cfg.name,
        region=dep.target.region,
        stack_name=dep.stack_name,
        change_set_id=None,
        create=info is None or info.status is StackStatus.REVIEW_IN_PROGRESS,
        changes=[],
        template_hashes=hashes,
        parameters=params,
        stack_last_updated=info.last_updated if info else None,
        stack_id=info.stack_id if info else "",
        **target_fields(dep),
    )
    if info is not None and info.status is StackStatus.ROLLBACK_COMPLETE:
        plan.create = True
        plan.note = (
            f"{dep.stack_name} is ROLLBACK_COMPLETE from a failed first create; apply deletes "
            "it (it holds no resources) and creates the environment again"
        )
        return plan
    name = change_sets.stamped("mirror-infra") + f"-{hashes['root.json'][:8]}"
    request = change_sets.Request(
        stack=dep.stack_name,
        name=name,
        kind=change_sets.ChangeSetType.CREATE if plan.create else change_sets.ChangeSetType.UPDATE,
        description=f"mirror-infra plan of {dep.cfg.name}",
        **_root_template(dep, build, bucket, hashes["root.json"]),
        parameters=params,
        tags=dict(dep.cfg.tags),
        include_nested=True,
        deployment_config=express.DEPLOYMENT_CONFIG if dep.express else None,
    )
    try:
        made = change_sets.create(dep, request, makes_stack=info is None)
    except ClientError as exc:
        raise DeployError(f"could not create a change set on {dep.stack_name}: {exc}") from None
    if made.outcome is change_sets.Outcome.EMPTY:
        return plan
    if plan.create:
        plan.stack_id = made.stack_id  # the stack this change set made (REVIEW_IN_PROGRESS)
    found = change_sets.findings(dep, made)
    if made.outcome is change_sets.Outcome.FAILED:
        # the flow's ledger deletes the change set (and the empty stack of a first create)
        blocking = [f for f in found if f.blocks]
        if blocking:
            raise DeployError(
                f"change set {name} failed pre-deployment validation: "
                + "; ".join(_shown(f) for f in blocking)
                + (
                    "; " + name_conflict_hint(dep)
                    if any("Conflict" in f.name for f in blocking)
                    else ""
                )
            )
        raise DeployError(f"change set {name} failed: {made.reason}")
    plan.validation = [_shown(f) for f in found]
    described = made.described
    rows = read_rows(cfn, described)
    proven = phantom.prove(cfn, rows, described.stack_id, build) if not plan.create else None
    if proven is not None and changes_nothing(rows, proven):
        dep.ledger.discard(made.change_set_id)
        return plan
    plan.change_set_id = made.change_set_id
    plan.express = described.express
    changes = expand_new_stacks(judge_rows(rows, proven or phantom.NONE), build, params)
    plan.changes = judge_in_place(cfn, changes, build)
    return plan


TEMPLATE_BODY_LIMIT = 51_200  # bytes CloudFormation accepts inline; larger goes through S3


def _root_template(dep: Deployment, build: BuildResult, bucket: str, digest: str) -> dict:
    """TemplateBody when it fits, else the root uploaded next to the nested templates."""
    from mirror_infra.deploy.package import put_if_absent

    body = build.root.read_bytes()
    if len(body) <= TEMPLATE_BODY_LIMIT:
        return {"template_body": body.decode("utf-8")}
    s3 = dep.s3
    key = f"{dep.artifacts_prefix}root-{digest[:16]}.json"
    put_if_absent(s3, bucket, key, body)
    return {"template_url": s3.template_url(bucket, key)}


def template_hashes(build: BuildResult) -> dict[str, str]:
    from mirror_infra.build import sha256

    return {p.name: sha256(p.read_bytes()) for p in build.files}


def _failed_to_roll_back(dep: Deployment, stack_id: str) -> set[str]:
    """The stack's resources whose rollback failed: UPDATE_FAILED since its last rollback
    began. Only those can be skipped ("You can specify only resources that are in the
    UPDATE_FAILED state because a rollback failed. You can't specify resources that are in the
    UPDATE_FAILED state for other reasons", API_ContinueUpdateRollback); a resource whose
    update failed before the rollback is UPDATE_FAILED too."""
    latest: dict[str, str] = {}
    for event in dep.cfn.events(stack_id):  # newest first
        if event.physical_id == stack_id:  # the stack's own event
            if event.status == "UPDATE_ROLLBACK_IN_PROGRESS":
                break
            continue
        latest.setdefault(event.logical_id, str(event.status))
    return {logical_id for logical_id, status in latest.items() if status == "UPDATE_FAILED"}


def check_stack_can_change(dep: Deployment, info: StackInfo) -> None:
    """Refuse a stack stuck in a failed state, naming the way out of it."""
    if info.status is StackStatus.UPDATE_ROLLBACK_FAILED:
        # ContinueUpdateRollback names a nested stack's resource as NestedStack.LogicalId
        stuck: list[str] = []
        for node in dep.cfn.tree(info.stack_id):
            failed = [r for r in node.resources if r.status == "UPDATE_FAILED" and not r.is_stack]
            if failed:  # read the events only of a stack that has some
                in_rollback = _failed_to_roll_back(dep, node.stack_id)
                stuck += [str(r.path) for r in failed if r.logical_id in in_rollback]
        skips = " ".join(f"--skip-resource {name}" for name in stuck) or "--skip-resource LogicalId"
        raise DeployError(
            f"{dep.stack_name} is UPDATE_ROLLBACK_FAILED ({info.reason or 'no reason given'}); "
            + (f"failed to roll back: {', '.join(stuck)}; " if stuck else "")
            + f"run '{dep.tool_command('apply', '--continue-rollback')}' "
            f"(add {skips} for the resources that cannot roll back)"
        )
    if info.status in (StackStatus.DELETE_FAILED, StackStatus.ROLLBACK_FAILED):
        raise DeployError(
            f"{dep.stack_name} is {info.status} ({info.reason or 'no reason given'}); "
            f"fix the named resources, then run '{dep.tool_command('destroy')}'"
        )


def notices(dep: Deployment, plan: Plan) -> list[str]:
    """What a person will notice when the plan is applied, beyond the stacks."""
    found = []
    for c in plan.changes:
        if c.resource_type == "AWS::SNS::Subscription" and c.action in (
            ChangeAction.ADD,
            ChangeAction.MODIFY,
        ):
            found.append(
                f"{dep.cfg.alert_email or 'the alert email'} will get an email asking to "
                "confirm the ops-alerts subscription; alerts reach it only once confirmed"
            )
    return found


def check_named(allowed: set[str], build: BuildResult, dep: Deployment | None = None) -> None:
    """Every --allow-data-loss names a resource of the templates or of the deployed stacks
    (plain or Stack.LogicalId: a resource or nested stack the templates drop is named by what
    is deployed), or a guard (TerminationProtection, StackPolicy)."""
    from mirror_infra.deploy.protection import GUARD_NAMES

    known: set[str] = set(GUARD_NAMES)
    for stack, path in [("", build.root), *build.nested.items()]:
        for logical_id in json.loads(path.read_text(encoding="utf-8")).get("Resources", {}):
            known |= {logical_id, str(ResourcePath(stack, logical_id))}
    if dep is not None and not allowed <= known:
        known |= deployed_names(dep)  # read only when the templates alone do not know a name
    unknown = sorted(name for name in allowed if name not in known)
    if unknown:
        shown = ", ".join(repr(name) for name in unknown)
        raise ConfigError(
            f"--allow-data-loss {shown}: no such resource in the {build.env} templates or "
            f"stacks; name a logical id such as BlockCounterTable or Dynamodb.BlockCounterTable, "
            "or a guard: TerminationProtection, StackPolicy"
        )


def deployed_names(dep: Deployment) -> set[str]:
    """Every resource of the deployed root stack and its nested stacks, plain and qualified
    (none when there is no stack)."""
    info = dep.cfn.stack(dep.stack_name)
    if info is None:
        return set()
    return {
        name
        for node in dep.cfn.tree(info.stack_id)
        for r in node.resources
        for name in (r.logical_id, str(r.path))
    }


_POLICY_SWITCH = ("DeletionPolicy ", "UpdateReplacePolicy ")


def _only_stops_keeping(change: Change) -> bool:
    """A change whose only loss is a DeletionPolicy/UpdateReplacePolicy that stops keeping the
    data (risk.in_place_losses): nothing is lost now, the data would go with a later delete."""
    reasons = [r.strip() for r in change.reason.split(";") if r.strip()]
    return (
        change.risk is Risk.LOSES_DATA
        and bool(reasons)
        and all(r.startswith(_POLICY_SWITCH) for r in reasons)
    )


def refuse_destructive(plan: Plan, allowed: set[str]) -> None:
    refused = plan.refused(allowed)
    impossible = [c for c in refused if c.risk is Risk.IMPOSSIBLE]
    if impossible:
        named = ", ".join(c.qualified_id for c in impossible)
        raise DestructiveChangeError(f"cannot apply: {named} would be replaced; {IMPOSSIBLE_WHY}")
    if refused:
        named = ", ".join(f"{c.qualified_id} ({c.risk})" for c in refused)
        unkept = [c for c in refused if _only_stops_keeping(c)]
        others = [c for c in refused if c not in unkept]
        advice = []
        if others:
            flags = " ".join(f"--allow-data-loss {c.logical_id}" for c in others)
            advice.append(f"if that is intended, name each one: {flags}")
        if unkept:
            # never advise the flag here: these are typically what adopt imported, kept at
            # Retain (its data this tool did not create); the params line keeps them so
            ids = ", ".join(sorted({c.logical_id for c in unkept}))
            advice.append(
                f"{ids} would no longer be kept when deleted; keep them so in "
                f"params/{plan.env}.yaml under data_safety: (for what adopt brought in: "
                f"'adopted: [{ids}]')"
            )
        raise DestructiveChangeError(f"refusing to change data: {named}; " + "; ".join(advice))
