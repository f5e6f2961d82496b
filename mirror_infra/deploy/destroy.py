"""`destroy`, start to finish: say exactly what is deleted and what is retained, refuse what
CloudFormation would fail on, ask the caller to confirm, then delete the environment (and,
when asked, its buckets' objects and its nonce versions).

Confirmation is a policy the caller answers (`Hooks.consent`), never skipped: the CLI
answers with a prompt or its flags, a test run's teardown with proof of what its own run
created (`Created`), which is checked against what exists before anything is deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from mirror_infra.aws.cfn_answers import StackResource
from mirror_infra.aws.cloudformation import CloudFormation
from mirror_infra.aws.status import StackStatus
from mirror_infra.deploy import flow, nonce
from mirror_infra.deploy.context import Deployment
from mirror_infra.deploy.operation import Finished
from mirror_infra.errors import Aborted, DeployError

RETAINING_POLICIES = ("Retain", "RetainExceptOnCreate")
KMS_KEY = "AWS::KMS::Key"


@dataclass(frozen=True)
class Item:
    qualified_id: str
    resource_type: str
    physical_id: str
    why: str = ""


@dataclass
class Teardown:
    stack_id: str
    deleted: list[Item] = field(default_factory=list)
    retained: list[Item] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)
    nonce_versions: list[str] = field(default_factory=list)
    termination_protection: bool = False
    # buckets destroy would delete that still hold objects: bucket -> its versions and markers
    full_buckets: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    key: Item | None = None  # the environment's key (deleted or retained)
    # each nonce version -> what becomes of the key it is encrypted under (NonceKey)
    nonce_keys: dict[str, NonceKey] = field(default_factory=dict)

    @property
    def nonce_under_deleted_key(self) -> list[str]:
        """The nonce versions whose key this destroy schedules for deletion: kept, nobody
        could read them (the application reads every version by path, with decryption)."""
        return [n for n, fate in self.nonce_keys.items() if fate is NonceKey.DELETED]


class NonceKey(StrEnum):
    """What destroy does to the key a nonce version is encrypted under."""

    DELETED = "its key is scheduled for deletion with the stack"
    RETAINED = "its key is retained (DeletionPolicy Retain): still readable"
    OTHER = "under a key that is not the environment's (destroy does not touch it)"


def _policies(cfn: CloudFormation, stack_id: str) -> dict[str, str]:
    template = cfn.template(stack_id)
    return {
        name: r.get("DeletionPolicy", "Delete")
        for name, r in (template.get("Resources") or {}).items()
    }


def survey(dep: Deployment) -> Teardown | None:
    """What destroy would do; None when the environment does not exist."""
    cfn = dep.cfn
    info = cfn.stack(dep.stack_name)
    if info is None:
        return None
    if info.status is StackStatus.REVIEW_IN_PROGRESS:
        # a change set made (by anyone) and never executed: no resources, and no template to
        # read them from; removing the stack would delete change sets this tool may not own
        delete = dep.target.aws_command("cloudformation", "delete-stack", "--stack-name", info.name)
        raise DeployError(
            f"{info.name} is REVIEW_IN_PROGRESS: it was never created (a change set made for it "
            "was not executed), so it holds no resources and destroy has nothing to delete; to "
            f"remove the stack and its change sets, run '{delete}'"
        )
    teardown = Teardown(info.stack_id, termination_protection=info.termination_protection)
    for node in cfn.tree(info.stack_id):
        policies = _policies(cfn, node.stack_id)
        for r in node.resources:
            if r.is_stack:
                continue
            qualified = str(r.path)
            policy = policies.get(r.logical_id, "Delete")
            if policy in RETAINING_POLICIES:
                teardown.retained.append(
                    Item(qualified, r.resource_type, r.physical_id, f"DeletionPolicy {policy}")
                )
                continue
            note = (
                "scheduled for deletion (KMS waits its PendingWindowInDays first)"
                if r.resource_type == KMS_KEY
                else ""
            )
            teardown.deleted.append(Item(qualified, r.resource_type, r.physical_id, note))
            if r.resource_type == "AWS::S3::Bucket" and r.physical_id:
                versions = (
                    dep.s3.versions(r.physical_id) if dep.s3.has_objects(r.physical_id) else []
                )
                if versions:
                    teardown.full_buckets[r.physical_id] = versions
                continue
            blocker = _blocker(dep, r)
            if blocker:
                teardown.blockers.append(f"{qualified}: {blocker}")
    found = nonce.versions(dep.ssm, dep.names)
    teardown.nonce_versions = [v.name for v in found]
    keys = [i for i in teardown.deleted + teardown.retained if i.resource_type == KMS_KEY]
    teardown.key = keys[0] if keys else None
    teardown.nonce_keys = _nonce_keys(dep, teardown, found)
    return teardown


def _nonce_keys(
    dep: Deployment, teardown: Teardown, found: list[nonce.NonceVersion]
) -> dict[str, NonceKey]:
    """What becomes of each nonce version's key: SSM records the key as it was given (id,
    ARN or alias), resolved by KMS DescribeKey (aws/kms.py cites the page)."""
    key = teardown.key
    if key is None or not key.physical_id:
        return {v.name: NonceKey.OTHER for v in found}
    refs = dep.keys(dep.keys("").arn(key.physical_id) or key.physical_id)
    fate = NonceKey.RETAINED if key in teardown.retained else NonceKey.DELETED
    return {v.name: fate if nonce.under_key(v, refs) else NonceKey.OTHER for v in found}


def _blocker(dep: Deployment, r: StackResource) -> str:
    """Why CloudFormation would fail to delete this resource, found before trying."""
    if not r.physical_id:
        return ""
    if r.resource_type == "AWS::DynamoDB::Table" and dep.dynamodb.deletion_protection(
        r.physical_id
    ):
        return "deletion protection is on; turn it off in params and apply first"
    return ""


def empty_buckets(dep: Deployment, teardown: Teardown) -> int:
    """Delete every object version and delete marker of the buckets destroy deletes (never of
    a retained one: those are not in `full_buckets`); how many went."""
    gone = 0
    for bucket, versions in teardown.full_buckets.items():
        dep.s3.delete_versions(bucket, versions)
        gone += len(versions)
    return gone


def check_can_delete(
    dep: Deployment, teardown: Teardown, emptying: bool = False, deleting_nonce: bool = False
) -> None:
    """Refuse what CloudFormation would fail on: termination protection, deletion protection,
    buckets with objects (unless they are to be emptied first); and a destroy that would keep
    nonce versions while deleting the key they are encrypted under (unless they go too)."""
    blockers = list(teardown.blockers)
    if not emptying:
        blockers += [
            f"{bucket}: the bucket is not empty ({len(versions)} object version(s); "
            "CloudFormation deletes only empty buckets; --empty-buckets deletes them first)"
            for bucket, versions in teardown.full_buckets.items()
        ]
    if teardown.termination_protection:
        off = dep.target.aws_command(
            "cloudformation",
            "update-termination-protection",
            "--no-enable-termination-protection",
            "--stack-name",
            dep.stack_name,
        )
        raise DeployError(
            f"{dep.stack_name} has termination protection on; to destroy it, first run '{off}'"
        )
    orphaned = [] if deleting_nonce else teardown.nonce_under_deleted_key
    if orphaned and teardown.key is not None:
        blockers.append(
            f"{', '.join(orphaned)} would be kept, but the key they are encrypted under "
            f"({teardown.key.qualified_id} {teardown.key.physical_id}) goes with the stack, so "
            "nobody could read them and the next apply would fail on them (add --delete-nonce "
            "to delete them with their key, or keep the environment)"
        )
    if blockers:
        raise DeployError("cannot destroy: " + "; ".join(blockers))


def nonce_versions(dep: Deployment) -> list[str]:
    return [v.name for v in nonce.versions(dep.ssm, dep.names)]


# --- the flow ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Created:
    """What one run itself created (its proof that it may delete them): the stack it made
    and the nonce versions it wrote."""

    stack_id: str = ""
    nonce_versions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Deletion:
    """What destroy asks its caller to confirm."""

    env: str
    question: str
    typed: bool  # a protected environment: only its name, typed or given, confirms


@dataclass(frozen=True)
class Answer:
    yes: bool = False  # confirmed (an unprotected environment)
    typed: str = ""  # the environment name typed or passed (--confirm-env)
    created: Created | None = None  # a run's proof of what it created


@dataclass
class Hooks:
    """How destroy talks to its caller."""

    consent: Callable[[Deletion], Answer]
    # what is deleted and retained, before anyone is asked (None: no stack)
    on_survey: Callable[[Teardown | None, list[str]], None] = lambda teardown, nonce: None
    flow: flow.Hooks = field(default_factory=flow.Hooks)


@dataclass
class Destroyed:
    teardown: Teardown | None  # None: there was no stack
    finished: Finished | None = None
    nonce_deleted: list[str] = field(default_factory=list)
    objects_deleted: int = 0


def protected(dep: Deployment) -> bool:
    return dep.cfg.name == "production" or dep.cfg.data_safety.termination_protection


def _confirm(dep: Deployment, hooks: Hooks, question: str, stack_id: str, versions) -> Answer:
    """The one confirmation rule of every deletion: a protected environment (production, or
    termination protection in its params) needs its name; any other a yes; a test run's own
    teardown its proof, which must name exactly what is about to be deleted."""
    env = dep.cfg.name
    answer = hooks.consent(Deletion(env, question, protected(dep)))
    if answer.created is not None:
        proof = answer.created
        if dep.cfg.test_run is None:
            raise Aborted(f"not deleted: {env} is not a test run's environment")
        if stack_id and stack_id != proof.stack_id:
            raise Aborted(f"not deleted: {proof.stack_id or 'no stack'} is not {dep.stack_name}")
        strays = sorted(set(versions) - set(proof.nonce_versions))
        if strays:
            raise Aborted(f"not deleted: {', '.join(strays)} were not created by this run")
        return answer
    if protected(dep):
        if answer.typed != env:
            raise Aborted(
                f"nothing deleted; {env} needs the typed confirmation (or --confirm-env {env})"
            )
    elif not answer.yes:
        raise Aborted("nothing deleted; pass --yes to delete without asking")
    return answer


def run(
    dep: Deployment, hooks: Hooks, delete_nonce: bool = False, empty: bool = False
) -> Destroyed:
    """Destroy the environment after the caller's consent; `delete_nonce`: its nonce versions
    too (all of them, or with a run's proof only those it created); `empty`: the objects of
    the buckets destroy deletes first."""
    teardown = survey(dep)
    if teardown is None:
        versions = nonce_versions(dep) if delete_nonce else []
        hooks.on_survey(None, versions)
        if not versions:
            return Destroyed(None)
        answer = _confirm(dep, hooks, f"Delete {dep.cfg.name}'s nonce versions?", "", versions)
        return Destroyed(None, nonce_deleted=_delete_nonce(dep, answer))
    hooks.on_survey(teardown, teardown.nonce_versions)
    versions = teardown.nonce_versions if delete_nonce else []
    # a test run's own stack may have its termination protection lifted, on its run's proof
    own = teardown.termination_protection and dep.cfg.test_run is not None
    if not own:
        # refused before anyone is asked
        check_can_delete(dep, teardown, emptying=empty, deleting_nonce=delete_nonce)
    answer = _confirm(dep, hooks, f"Destroy {dep.stack_name}?", teardown.stack_id, versions)
    if own and answer.created is not None:
        dep.cfn.set_termination_protection(teardown.stack_id, False)
        teardown.termination_protection = False
    if own:
        check_can_delete(dep, teardown, emptying=empty, deleting_nonce=delete_nonce)
    done = Destroyed(teardown)
    if empty:
        done.objects_deleted = empty_buckets(dep, teardown)
    done.finished = flow.delete_confirmed(dep, teardown.stack_id, hooks.flow)
    if delete_nonce:
        done.nonce_deleted = _delete_nonce(dep, answer)
    return done


def _delete_nonce(dep: Deployment, answer: Answer) -> list[str]:
    """Every version; with a run's proof only those it created, each still at the version
    it wrote (a later write means someone else uses it)."""
    if answer.created is None:
        return nonce.delete_all(dep.ssm, dep.names)
    gone = []
    for name in answer.created.nonce_versions:
        if not name.startswith(dep.names.nonce_path + "/"):
            raise Aborted(f"not deleted: {name} is not under {dep.names.nonce_path}")
        found = dep.ssm.parameter(name)
        if found is None:
            continue
        if found.version != 1:
            raise Aborted(f"not deleted: {name} was changed since this run created it")
        dep.ssm.delete([name])
        gone.append(name)
    return gone
