"""Clean up what a record names, and only that: each thing is looked up first, deleted only
when it is still there and still the run's, and the outcome said. What AWS cannot delete at
once is listed: a KMS key is scheduled for deletion (at least 7 days, ScheduleKeyDeletion's
minimum), and whatever could not be deleted is named one by one.

AWS operations, each for the use its page documents:
- CloudFormation DescribeStacks / DeleteStack / UpdateTerminationProtection
  (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DeleteStack.html);
- KMS DescribeKey / ScheduleKeyDeletion (PendingWindowInDays 7-30,
  https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html) /
  ListAliases / DeleteAlias;
- DynamoDB DescribeTable / DeleteTable; S3 HeadBucket / ListObjectVersions / DeleteObjects
  (each version by id: https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeletingObjectVersions.html)
  / DeleteBucket (empty only); CloudWatch Logs DescribeLogGroups / DeleteLogGroup; SNS
  GetTopicAttributes / DeleteTopic; CloudWatch DescribeAlarms / DeleteAlarms / GetDashboard /
  DeleteDashboards; IAM GetRole / ListRolePolicies / DeleteRolePolicy /
  ListAttachedRolePolicies / DetachRolePolicy / DeleteRole (a role's policies go first:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_manage_delete.html); SSM
  GetParameter / DeleteParameter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from botocore.exceptions import ClientError

from mirror_infra.aws.errors import AwsErrorKind, classify, error_code, error_message
from mirror_infra.aws.storage import S3
from proof.aws import Account
from proof.record import Entry, Kind, Record
from proof.tool import Tool

BOOTSTRAP_STACK = "mirror-infra-bootstrap"
RUN_TAG = "ProofRun"  # the tag the proof's derived params put on its root stacks
CLOCK_SKEW = timedelta(minutes=5)  # between this machine's clock and AWS's


@dataclass(frozen=True)
class Outcome:
    what: str
    result: str  # deleted / already gone / deleted by ... / pending deletion until ... / left: ...

    @property
    def left(self) -> bool:
        return self.result.startswith("left")

    @property
    def pending(self) -> bool:
        return self.result.startswith("pending")


def _gone(exc: ClientError) -> bool:
    """The thing looked up is not there (mirror_infra/aws/errors.py, the one place AWS's error
    codes are matched: each service's not-found code, in its table of real AWS answers)."""
    return classify(exc) is AwsErrorKind.NOT_FOUND


# --- one resource by type: look (None: gone; else what stands in the way or "") and delete ---


def _key_look(aws: Account, key_id: str) -> str | None:
    try:
        meta = aws.client("kms").describe_key(KeyId=key_id)["KeyMetadata"]
    except ClientError as exc:
        if _gone(exc):
            return None
        raise
    if meta["KeyState"] in ("PendingDeletion", "PendingReplicaDeletion"):
        return f"pending deletion until {meta.get('DeletionDate', 'its window ends')}"
    return ""


def _key_delete(aws: Account, key_id: str) -> str:
    answer = aws.client("kms").schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    return f"pending deletion until {answer['DeletionDate']}, scheduled now (7 days, the least)"


def _alias_look(aws: Account, name: str) -> str | None:
    pages = aws.client("kms").get_paginator("list_aliases").paginate()
    found = any(a["AliasName"] == name for page in pages for a in page["Aliases"])
    return "" if found else None


def _table_look(aws: Account, name: str) -> str | None:
    try:
        table = aws.client("dynamodb").describe_table(TableName=name)["Table"]
    except ClientError as exc:
        if _gone(exc):
            return None
        raise
    return "being deleted" if table["TableStatus"] == "DELETING" else ""


def _table_delete(aws: Account, name: str) -> str:
    ddb = aws.client("dynamodb")
    ddb.delete_table(TableName=name)
    ddb.get_waiter("table_not_exists").wait(TableName=name, WaiterConfig={"Delay": 2})
    return "deleted"


def _s3(aws: Account) -> S3:
    """The tool's own S3 object-version handling, pinned to the proof's account
    (ExpectedBucketOwner): a bucket of that name in another account is never touched, and a
    version DeleteObjects could not delete is an error, never a silent success."""
    return S3(aws.client("s3"), owner=aws.account_id)


def _versions(aws: Account, bucket: str, prefix: str = "") -> list[dict]:
    """Every object version and delete marker of the bucket (under `prefix`)."""
    return _s3(aws).versions(bucket, prefix)


def _bucket_look(aws: Account, name: str) -> str | None:
    try:
        aws.client("s3").head_bucket(Bucket=name)
    except ClientError as exc:
        if _gone(exc):
            return None
        raise
    return ""


def _bucket_delete(aws: Account, name: str) -> str:
    held = _versions(aws, name)
    if held:
        return f"left: it holds {len(held)} object version(s) this run did not record"
    aws.client("s3").delete_bucket(Bucket=name)
    return "deleted"


def _object_look(aws: Account, path: str) -> str | None:
    bucket, _, key = path.partition("/")
    if _bucket_look(aws, bucket) is None:
        return None
    return "" if [v for v in _versions(aws, bucket, key) if v["Key"] == key] else None


def _object_delete(aws: Account, path: str) -> str:
    bucket, _, key = path.partition("/")
    mine = [v for v in _versions(aws, bucket, key) if v["Key"] == key]  # this key, no other
    _s3(aws).delete_versions(bucket, mine)
    return f"deleted ({len(mine)} version(s))"


def _log_group_look(aws: Account, name: str) -> str | None:
    found = aws.client("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    return "" if any(g["logGroupName"] == name for g in found) else None


def _topic_look(aws: Account, arn: str) -> str | None:
    try:
        aws.client("sns").get_topic_attributes(TopicArn=arn)
    except ClientError as exc:
        if _gone(exc):
            return None
        raise
    return ""


def _alarm_look(aws: Account, name: str) -> str | None:
    found = aws.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return "" if found else None


def _dashboard_look(aws: Account, name: str) -> str | None:
    try:
        aws.client("cloudwatch").get_dashboard(DashboardName=name)
    except ClientError as exc:
        if _gone(exc):
            return None
        raise
    return ""


def _role_look(aws: Account, name: str) -> str | None:
    try:
        aws.client("iam").get_role(RoleName=name)
    except ClientError as exc:
        if _gone(exc):
            return None
        raise
    return ""


def _role_delete(aws: Account, name: str) -> str:
    iam = aws.client("iam")
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=name, PolicyName=policy)
    for policy in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
    iam.delete_role(RoleName=name)
    return "deleted"


def _parameter_look(aws: Account, name: str) -> str | None:
    try:
        aws.client("ssm").get_parameter(Name=name)  # metadata only: never decrypted
    except ClientError as exc:
        if _gone(exc):
            return None
        raise
    return ""


def _deleted(call: Callable[[Account, str], object]) -> Callable[[Account, str], str]:
    def delete(aws: Account, pid: str) -> str:
        call(aws, pid)
        return "deleted"

    return delete


HANDLERS: dict[str, tuple[Callable[[Account, str], str | None], Callable[[Account, str], str]]] = {
    "AWS::KMS::Key": (_key_look, _key_delete),
    "AWS::KMS::Alias": (
        _alias_look,
        _deleted(lambda aws, name: aws.client("kms").delete_alias(AliasName=name)),
    ),
    "AWS::DynamoDB::Table": (_table_look, _table_delete),
    "AWS::S3::Bucket": (_bucket_look, _bucket_delete),
    "object": (_object_look, _object_delete),
    "AWS::Logs::LogGroup": (
        _log_group_look,
        _deleted(lambda aws, name: aws.client("logs").delete_log_group(logGroupName=name)),
    ),
    "AWS::SNS::Topic": (
        _topic_look,
        _deleted(lambda aws, arn: aws.client("sns").delete_topic(TopicArn=arn)),
    ),
    "AWS::CloudWatch::Alarm": (
        _alarm_look,
        _deleted(lambda aws, name: aws.client("cloudwatch").delete_alarms(AlarmNames=[name])),
    ),
    "AWS::CloudWatch::Dashboard": (
        _dashboard_look,
        _deleted(
            lambda aws, name: aws.client("cloudwatch").delete_dashboards(DashboardNames=[name])
        ),
    ),
    "AWS::IAM::Role": (_role_look, _role_delete),
    "AWS::SSM::Parameter": (
        _parameter_look,
        _deleted(lambda aws, name: aws.client("ssm").delete_parameter(Name=name)),
    ),
}
# the order of deletion: what uses a thing before the thing (the key last: others use it)
ORDER = [
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::Dashboard",
    "AWS::SNS::Topic",
    "AWS::Logs::LogGroup",
    "AWS::IAM::Role",
    "AWS::SSM::Parameter",
    "object",
    "AWS::S3::Bucket",
    "AWS::DynamoDB::Table",
    "AWS::KMS::Alias",
    "AWS::KMS::Key",
]


def resource(aws: Account, type_: str, pid: str) -> Outcome:
    """One recorded resource: already gone, deleted now, pending, or left (and why)."""
    look, delete = HANDLERS[type_]
    what = f"{type_} {pid}"
    try:
        state = look(aws, pid)
        if state is None:
            return Outcome(what, "already gone")
        if state.startswith("pending"):
            return Outcome(what, state)
        if state == "being deleted":
            return Outcome(what, "deleted (AWS is finishing the deletion)")
        return Outcome(what, delete(aws, pid))
    except ClientError as exc:
        return Outcome(what, f"left: {error_code(exc)}: {' '.join(error_message(exc).split())}")


# --- what the tool made for an environment ---------------------------------------------------


def environment(aws: Account, tool: Tool, run: str, entry: Entry) -> list[Outcome]:
    """The environment's root stack (only if tagged with this run's id), destroyed by the tool
    itself with its nonce versions and emptied buckets; then its artifacts folder."""
    env = entry.name
    stack_name = f"mirror-dissonance-{env}"
    outcomes = []
    info = aws.settled(stack_name)
    if info is None:
        outcomes.append(Outcome(f"stack {stack_name}", "already gone"))
    elif {t["Key"]: t["Value"] for t in info.get("Tags", [])}.get(RUN_TAG) != run:
        outcomes.append(
            Outcome(f"stack {stack_name}", f"left: not tagged {RUN_TAG}={run}, so not this run's")
        )
    elif info["StackStatus"] == "REVIEW_IN_PROGRESS":
        # made by a CREATE change set that never ran (a run killed between plan and apply):
        # it holds nothing, and DeleteStack deletes it with its change sets
        aws.client("cloudformation").delete_stack(StackName=info["StackId"])
        final = aws.settled(info["StackId"])
        status = final["StackStatus"] if final else "DELETE_COMPLETE"
        result = "deleted (it held nothing)" if status == "DELETE_COMPLETE" else f"left: {status}"
        outcomes.append(Outcome(f"stack {stack_name}", result))
    else:
        # what the stack holds, read before it goes (the run may have been killed before it
        # recorded them): each is checked afterwards, and what the stack retained is deleted
        held = [
            (r["ResourceType"], r["PhysicalResourceId"])
            for r in aws.resources(info["StackId"])
            if r["ResourceType"] in HANDLERS and r.get("PhysicalResourceId")
        ]
        tool.write_params(env, entry.extra["params"])
        ran = tool.run(env, "destroy", "--yes", "--delete-nonce", "--empty-buckets")
        result = "deleted by the tool's destroy" if ran.code == 0 else f"left: {ran.last_error}"
        outcomes.append(Outcome(f"stack {stack_name}", result))
        if ran.code == 0:
            outcomes += [resource(aws, t, pid) for t in ORDER for k, pid in held if k == t]
    outcomes += artifacts(aws, entry.extra["artifacts_bucket"], f"templates/{env}/")
    return outcomes


def artifacts(aws: Account, bucket: str, folder: str) -> list[Outcome]:
    """The environment's own folder of the artifacts bucket: every version of every template
    the tool uploaded for it (the folder is named after the run's environment)."""
    what = f"s3://{bucket}/{folder}"
    if _bucket_look(aws, bucket) is None:
        return [Outcome(what, "already gone")]
    mine = _versions(aws, bucket, folder)
    if not mine:
        return [Outcome(what, "already gone")]
    _s3(aws).delete_versions(bucket, mine)
    return [Outcome(what, f"deleted ({len(mine)} object version(s))")]


def bootstrap(aws: Account, entry: Entry) -> list[Outcome]:
    """The shared bootstrap stack and its (retained) bucket, which this run created: the stack
    is deleted only if AWS says it was created after the record was written, the bucket only
    once it is empty."""
    info = aws.settled(BOOTSTRAP_STACK)
    bucket = entry.extra.get("bucket", "")
    outcomes = []
    if info is None:
        outcomes.append(Outcome(f"stack {BOOTSTRAP_STACK}", "already gone"))
    else:
        recorded = datetime.fromisoformat(entry.extra["at"])
        if info["CreationTime"] < recorded - CLOCK_SKEW:
            return [
                Outcome(
                    f"stack {BOOTSTRAP_STACK}",
                    f"left: created {info['CreationTime']:%Y-%m-%d %H:%M}, before this run",
                )
            ]
        bucket = next(
            (o["OutputValue"] for o in info.get("Outputs", []) if o["OutputKey"] == "BucketName"),
            bucket,
        )
        cfn = aws.client("cloudformation")
        cfn.update_termination_protection(
            StackName=info["StackId"], EnableTerminationProtection=False
        )
        cfn.delete_stack(StackName=info["StackId"])
        final = aws.settled(info["StackId"])
        status = final["StackStatus"] if final else "DELETE_COMPLETE"
        ok = status == "DELETE_COMPLETE"
        outcomes.append(Outcome(f"stack {BOOTSTRAP_STACK}", "deleted" if ok else f"left: {status}"))
    if bucket:
        outcomes.append(resource(aws, "AWS::S3::Bucket", bucket))
    return outcomes


def _key_ids_by_description(aws: Account, description: str) -> list[str]:
    """Keys whose description is exactly the one recorded (an intent whose id was never
    recorded: the run was killed between CreateKey's answer and the record)."""
    kms = aws.client("kms")
    found = []
    for page in kms.get_paginator("list_keys").paginate():
        for key in page["Keys"]:
            meta = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
            if meta.get("Description") == description and meta["KeyManager"] == "CUSTOMER":
                found.append(key["KeyId"])
    return found


def everything(aws: Account, tool: Tool, record: Record) -> list[Outcome]:
    """Clean up all that `record` names: environments first (their stacks), then each recorded
    resource, then the bootstrap stack if the run created it. Marks the record done when
    nothing is left."""
    run = record.run
    if run is None:
        return []
    account = aws.account_id
    if account != run.extra["account"]:
        return [
            Outcome(
                f"record of run {run.name}",
                f"left: it was made in account {mask(run.extra['account'])}, the profile now "
                f"names {mask(account)}; run with the profile of that account",
            )
        ]
    entries = record.entries()
    outcomes: list[Outcome] = []
    for entry in reversed([e for e in entries if e.kind is Kind.ENVIRONMENT]):
        outcomes += environment(aws, tool, run.name, entry)
    resources = [(e.type, e.name) for e in entries if e.kind is Kind.RESOURCE]
    known = {e.extra.get("description") for e in entries if e.kind is Kind.RESOURCE}
    for intent in (e for e in entries if e.kind is Kind.KEY_INTENT and e.name not in known):
        resources += [("AWS::KMS::Key", key) for key in _key_ids_by_description(aws, intent.name)]
    seen = {o.what for o in outcomes}  # each said once: an environment's are said already
    for type_ in ORDER:
        for pid in dict.fromkeys(pid for t, pid in resources if t == type_):
            if f"{type_} {pid}" not in seen:
                outcomes.append(resource(aws, type_, pid))
    for entry in record.of(Kind.BOOTSTRAP):
        outcomes += bootstrap(aws, entry)
    if not any(o.left for o in outcomes):
        record.add(Kind.DONE, run.name, pending=[o.what for o in outcomes if o.pending])
    return outcomes


def mask(account: str) -> str:
    """An account id as the summary shows it: its last four digits."""
    return "*" * (len(account) - 4) + account[-4:]
