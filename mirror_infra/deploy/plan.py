"""`plan`: a change set on the root stack with nested change sets, read back as one list of
changes, each classed as safe, replacing data or deleting data."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path

from botocore.exceptions import ClientError

from mirror_infra.aws.errors import AwsErrorKind, classify, is_no_changes_reason
from mirror_infra.aws.status import ChangeSetStatus, ExecutionStatus, StackStatus
from mirror_infra.aws.wait import Timeout, poll
from mirror_infra.build import BuildResult
from mirror_infra.deploy import stacks
from mirror_infra.deploy.context import Deployment
from mirror_infra.errors import (
    ConfigError,
    DeployError,
    DestructiveChangeError,
    StalePlanError,
)

# resources whose replacement or removal loses data (SPEC §2 data safety; the nonce is handled
# outside CloudFormation and is never touched by a plan)
STATEFUL_TYPES = frozenset(
    {
        "AWS::DynamoDB::Table",
        "AWS::KMS::Key",
        "AWS::S3::Bucket",
        "AWS::Logs::LogGroup",
        "AWS::CloudFormation::Stack",  # a nested stack holds the stateful resources above
    }
)
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
PLAN_FORMAT = 1


class Risk(StrEnum):
    SAFE = "safe"
    REPLACES_DATA = "replaces data"
    DELETES_DATA = "deletes data"


@dataclass(frozen=True)
class Change:
    stack: str  # "" for the root stack, else the nested stack's path ("Dynamodb")
    action: str  # Add, Modify, Remove, Import, Dynamic
    logical_id: str
    resource_type: str
    replacement: str  # "True", "False", "Conditional" or "" (not applicable)
    properties: tuple[str, ...]
    physical_id: str
    risk: Risk
    condition: str = ""  # a template Condition the resource is created under, if any

    @property
    def qualified_id(self) -> str:
        return f"{self.stack}.{self.logical_id}" if self.stack else self.logical_id

    @property
    def depth(self) -> int:
        return 0 if not self.stack else self.stack.count(".") + 1

    def allowed_by(self, names: set[str]) -> bool:
        return self.logical_id in names or self.qualified_id in names


def classify_change(action: str, resource_type: str, replacement: str) -> Risk:
    if resource_type not in STATEFUL_TYPES:
        return Risk.SAFE
    if action == "Remove":
        return Risk.DELETES_DATA
    if action == "Modify" and replacement in ("True", "Conditional"):
        return Risk.REPLACES_DATA
    return Risk.SAFE


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

    @property
    def has_changes(self) -> bool:
        return bool(self.changes) or self.change_set_id is not None

    def destructive(self) -> list[Change]:
        return [c for c in self.changes if c.risk is not Risk.SAFE]

    def refused(self, allowed: set[str]) -> list[Change]:
        """Destructive changes the user has not named."""
        return [c for c in self.destructive() if not c.allowed_by(allowed | set(self.allowed))]

    def save(self, path: Path) -> None:
        data = asdict(self)
        data["format"] = PLAN_FORMAT
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Plan:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.pop("format", None) != PLAN_FORMAT:
                raise ValueError("unknown format")
            data["changes"] = [
                Change(**{**c, "properties": tuple(c["properties"]), "risk": Risk(c["risk"])})
                for c in data["changes"]
            ]
            return cls(**data)
        except FileNotFoundError:
            raise ConfigError(f"--plan {path}: no such file; save one with 'plan --out'") from None
        except (ValueError, TypeError, KeyError) as exc:
            raise ConfigError(
                f"--plan {path}: not a plan saved by 'mirror-infra plan --out' ({exc})"
            ) from None


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


def create_plan(dep: Deployment, build: BuildResult, bucket: str, timeout: float = 600) -> Plan:
    """Create the change set and read it back; an empty change set is deleted at once."""
    cfn = dep.cfn
    info = stacks.describe(cfn, dep.stack_name)
    if info is not None:
        _check_stack_can_change(dep, info)
    params = root_parameters(dep, bucket, build)
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
    )
    if info is not None and info.status is StackStatus.ROLLBACK_COMPLETE:
        plan.create = True
        plan.note = (
            f"{dep.stack_name} is ROLLBACK_COMPLETE from a failed first create; apply deletes "
            "it (it holds no resources) and creates the environment again"
        )
        return plan
    name = f"mirror-infra-{time.strftime('%Y%m%d-%H%M%S')}-{hashes['root.json'][:8]}"
    try:
        created = cfn.create_change_set(
            StackName=dep.stack_name,
            ChangeSetName=name,
            ChangeSetType="CREATE" if plan.create else "UPDATE",
            **_root_template(dep, build, bucket, hashes["root.json"]),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
            Capabilities=CAPABILITIES,
            Tags=[{"Key": k, "Value": v} for k, v in sorted(dep.cfg.tags.items())],
            IncludeNestedStacks=True,
            Description=f"mirror-infra plan of {dep.cfg.name}",
        )
    except ClientError as exc:
        if classify(exc) in (AwsErrorKind.NO_UPDATES, AwsErrorKind.NO_CHANGES):
            return plan
        raise DeployError(f"could not create a change set on {dep.stack_name}: {exc}") from None
    change_set_id = created["Id"]
    try:
        described = poll(
            lambda: cfn.describe_change_set(ChangeSetName=change_set_id),
            lambda d: ChangeSetStatus(d["Status"]).settled,
            dep.backoff,
            timeout,
        )
    except Timeout:
        raise DeployError(
            f"change set {name} was not ready within {timeout:.0f}s; see the CloudFormation console"
        ) from None
    if ChangeSetStatus(described["Status"]) is ChangeSetStatus.FAILED:
        reason = described.get("StatusReason", "")
        _delete_change_set(cfn, change_set_id)
        if is_no_changes_reason(reason):
            return plan
        raise DeployError(f"change set {name} failed: {reason}")
    plan.change_set_id = change_set_id
    plan.changes = expand_new_stacks(read_changes(cfn, described), build)
    return plan


def expand_new_stacks(changes: list[Change], build: BuildResult) -> list[Change]:
    """AWS makes no nested change set for a stack it creates; list what its template adds."""
    expanded: list[Change] = []
    read_from_aws = {c.stack for c in changes}
    for change in changes:
        expanded.append(change)
        path = change.qualified_id
        if (
            change.action == "Add"
            and change.resource_type == "AWS::CloudFormation::Stack"
            and not change.stack
            and path in build.nested
            and path not in read_from_aws  # AWS did make a nested change set for it
        ):
            template = json.loads(build.nested[path].read_text(encoding="utf-8"))
            for logical_id, resource in sorted(template.get("Resources", {}).items()):
                expanded.append(
                    Change(
                        stack=path,
                        action="Add",
                        logical_id=logical_id,
                        resource_type=resource["Type"],
                        replacement="",
                        properties=(),
                        physical_id="",
                        risk=Risk.SAFE,
                        # shown so a reader knows it may not be created at all
                        condition=resource.get("Condition", ""),
                    )
                )
    return expanded


TEMPLATE_BODY_LIMIT = 51_200  # bytes CloudFormation accepts inline; larger goes through S3


def _root_template(dep: Deployment, build: BuildResult, bucket: str, digest: str) -> dict:
    """TemplateBody when it fits, else the root uploaded next to the nested templates."""
    from mirror_infra.deploy.package import put_if_absent, template_url

    body = build.root.read_bytes()
    if len(body) <= TEMPLATE_BODY_LIMIT:
        return {"TemplateBody": body.decode("utf-8")}
    s3 = dep.target.client("s3")
    key = f"{dep.artifacts_prefix}root-{digest[:16]}.json"
    put_if_absent(s3, bucket, key, body)
    return {"TemplateURL": template_url(s3, bucket, key)}


def read_changes(cfn, described: dict, stack: str = "") -> list[Change]:
    """The change set's rows, each nested stack's rows right after its own row."""
    changes: list[Change] = []
    for row in _all_rows(cfn, described):
        rc = row.get("ResourceChange")
        if not rc:
            continue
        properties = tuple(
            dict.fromkeys(
                d["Target"]["Name"]
                for d in rc.get("Details", [])
                if d.get("Target", {}).get("Attribute") == "Properties" and d["Target"].get("Name")
            )
        )
        replacement = rc.get("Replacement", "") or ""
        if rc["Action"] != "Modify":
            replacement = ""
        changes.append(
            Change(
                stack=stack,
                action=rc["Action"],
                logical_id=rc["LogicalResourceId"],
                resource_type=rc["ResourceType"],
                replacement=replacement,
                properties=properties,
                physical_id=rc.get("PhysicalResourceId", ""),
                risk=classify_change(rc["Action"], rc["ResourceType"], replacement),
            )
        )
        nested_id = rc.get("ChangeSetId")
        if rc["ResourceType"] == "AWS::CloudFormation::Stack" and nested_id:
            nested = cfn.describe_change_set(ChangeSetName=nested_id)
            path = f"{stack}.{rc['LogicalResourceId']}" if stack else rc["LogicalResourceId"]
            changes += read_changes(cfn, nested, path)
    return changes


def _all_rows(cfn, described: dict) -> list[dict]:
    rows = list(described.get("Changes", []))
    token = described.get("NextToken")
    while token:
        page = cfn.describe_change_set(ChangeSetName=described["ChangeSetId"], NextToken=token)
        rows += page.get("Changes", [])
        token = page.get("NextToken")
    return rows


def template_hashes(build: BuildResult) -> dict[str, str]:
    from mirror_infra.build import sha256

    return {p.name: sha256(p.read_bytes()) for p in build.files}


def _delete_change_set(cfn, change_set_id: str) -> None:
    try:
        cfn.delete_change_set(ChangeSetName=change_set_id)
    except ClientError as exc:
        if classify(exc) is not AwsErrorKind.CHANGE_SET_NOT_FOUND:
            raise


def discard(dep: Deployment, plan: Plan) -> None:
    """Delete the plan's change set (and, for a never-executed create, its empty stack)."""
    if plan.change_set_id:
        _delete_change_set(dep.cfn, plan.change_set_id)
    if plan.create:
        info = stacks.describe(dep.cfn, dep.stack_name)
        if info is not None and info.status is StackStatus.REVIEW_IN_PROGRESS:
            dep.cfn.delete_stack(StackName=dep.stack_name)


def _check_stack_can_change(dep: Deployment, info: stacks.StackInfo) -> None:
    if info.status is StackStatus.UPDATE_ROLLBACK_FAILED:
        raise DeployError(
            f"{dep.stack_name} is UPDATE_ROLLBACK_FAILED ({info.reason or 'no reason given'}); "
            f"run 'mirror-infra apply --env {dep.cfg.name} --continue-rollback' "
            "(add --skip-resource LogicalId for resources that cannot roll back)"
        )
    if info.status in (StackStatus.DELETE_FAILED, StackStatus.ROLLBACK_FAILED):
        raise DeployError(
            f"{dep.stack_name} is {info.status} ({info.reason or 'no reason given'}); "
            f"fix the named resources, then run 'mirror-infra destroy --env {dep.cfg.name}'"
        )


def check_fresh(dep: Deployment, plan: Plan, build: BuildResult) -> dict:
    """Refuse a saved plan when the stack, the templates or the change set have moved on."""
    if plan.env != dep.cfg.name or plan.region != dep.target.region:
        raise StalePlanError(
            f"the plan is for {plan.env} in {plan.region}, not {dep.cfg.name} in "
            f"{dep.target.region}; pass the matching --env/--region"
        )
    if template_hashes(build) != plan.template_hashes:
        raise StalePlanError(
            "the templates in build/ changed since the plan was made; run 'plan' again"
        )
    info = stacks.describe(dep.cfn, dep.stack_name)
    if plan.create:
        if info is not None and info.status is not StackStatus.REVIEW_IN_PROGRESS:
            raise StalePlanError(
                f"{dep.stack_name} was created ({info.status}) since the plan was made; "
                "run 'plan' again"
            )
    elif info is None or info.last_updated != plan.stack_last_updated:
        now = info.last_updated if info else "deleted"
        raise StalePlanError(
            f"{dep.stack_name} changed since the plan was made (now {now}); run 'plan' again"
        )
    if plan.change_set_id is None:
        return {}
    try:
        described = dep.cfn.describe_change_set(ChangeSetName=plan.change_set_id)
    except ClientError as exc:
        if classify(exc) in (AwsErrorKind.CHANGE_SET_NOT_FOUND, AwsErrorKind.STACK_NOT_FOUND):
            raise StalePlanError(
                "the plan's change set no longer exists; run 'plan' again"
            ) from None
        raise
    execution = ExecutionStatus(described.get("ExecutionStatus", "UNAVAILABLE"))
    if execution is not ExecutionStatus.AVAILABLE:
        raise StalePlanError(
            f"the plan's change set is {execution} (the stack moved on); run 'plan' again"
        )
    return described


def refuse_destructive(plan: Plan, allowed: set[str]) -> None:
    refused = plan.refused(allowed)
    if refused:
        named = ", ".join(f"{c.qualified_id} ({c.risk})" for c in refused)
        flags = " ".join(f"--allow-replace {c.logical_id}" for c in refused)
        raise DestructiveChangeError(
            f"refusing to change data: {named}; if that is intended, name each one: {flags}"
        )
