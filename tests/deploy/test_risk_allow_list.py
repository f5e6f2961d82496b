# ruff: noqa: E501 - the case tables read best one case a line
"""Unknown means risky (issue 23): on a stateful resource only a property on the reviewed safe
list, or a value a value-aware rule accepts, changes unnamed; everything else — a property
never seen before included — loses data. Expected verdicts are written out here, independently
of the rules; the key policy is the one the templates build (tests/golden)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from mirror_infra.aws.cfn_answers import PropertyDetail
from mirror_infra.aws.status import ChangeAction, Replacement
from mirror_infra.deploy.risk import (
    SAFE,
    STATEFUL_TYPES,
    VALUE_RULES,
    Risk,
    classify_change,
    in_place_losses,
    row_reasons,
)

TABLE, BUCKET, LOGS = "AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::Logs::LogGroup"
KEY, ALIAS, BUCKET_POLICY = "AWS::KMS::Key", "AWS::KMS::Alias", "AWS::S3::BucketPolicy"
GOLDEN = Path(__file__).parents[1] / "golden" / "production"


def _golden(stack: str, logical_id: str) -> dict:
    return json.loads((GOLDEN / f"{stack}.json").read_text())["Resources"][logical_id]


def _changed(resource: dict, edit) -> dict:
    new = copy.deepcopy(resource)
    edit(new["Properties"])
    return new


def _verdict(old: dict, new: dict) -> list[str]:
    return in_place_losses({"Resources": {"R": old}}, {"Resources": {"R": new}}).get("R", [])


def _r(kind: str, **props) -> dict:
    return {"Type": kind, "Properties": props}


def _statement(policy: dict, sid: str) -> dict:
    return next(s for s in policy["Statement"] if s["Sid"] == sid)


def _drop_statement(sid: str):
    def edit(props):
        props["KeyPolicy"]["Statement"] = [
            s for s in props["KeyPolicy"]["Statement"] if s["Sid"] != sid
        ]

    return edit


def _drop_action(sid: str, action: str):
    def edit(props):
        statement = _statement(props["KeyPolicy"], sid)
        statement["Action"] = [a for a in statement["Action"] if a != action]

    return edit


def _drop_service(sid: str, service: str):
    def edit(props):
        statement = _statement(props["KeyPolicy"], sid)
        statement["Principal"]["Service"] = [
            s for s in statement["Principal"]["Service"] if s != service
        ]

    return edit


def _add_statement(statement: dict):
    def edit(props):
        props["KeyPolicy"]["Statement"].append(statement)

    return edit


OWN_ROLE = {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/ops"}}
OTHER_ACCOUNT = {"AWS": "arn:aws:iam::111122223333:root"}
KEY_POLICY_CASES = [
    ("the application's decrypt via DynamoDB removed", _drop_statement("DynamoDBViaService"), True),
    ("decrypt dropped from the SSM grant (the nonce)", _drop_action("SSMViaService", "kms:Decrypt"), True),
    ("CloudWatch alarms' decrypt removed (a service)", _drop_service("SnsAndAlarmsForTheEncryptedTopic", "cloudwatch.amazonaws.com"), True),
    ("the logs service grant removed", _drop_statement("CloudWatchLogsForThisAccountsLogGroups"), True),
    ("an action already covered by kms:* on the root dropped", _drop_action("AccountRootAdministers", "kms:*"), True),
    ("a deny added for the account", _add_statement({"Sid": "No", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"}), True),
    ("decrypt granted to another account", _add_statement({"Sid": "Other", "Effect": "Allow", "Principal": OTHER_ACCOUNT, "Action": "kms:Decrypt", "Resource": "*"}), True),
    ("decrypt granted to a service", _add_statement({"Sid": "Svc", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "kms:Decrypt", "Resource": "*"}), True),
    ("decrypt granted to everyone", _add_statement({"Sid": "All", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}), True),
    ("decrypt granted to a role of the environment's own account", _add_statement({"Sid": "Ops", "Effect": "Allow", "Principal": OWN_ROLE, "Action": "kms:Decrypt", "Resource": "*"}), False),
    ("a statement's Sid renamed", lambda props: _statement(props["KeyPolicy"], "SSMViaService").update(Sid="Ssm"), False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("what", "edit", "risky"), KEY_POLICY_CASES, ids=[c[0] for c in KEY_POLICY_CASES]
)
def test_key_policy_may_only_widen_for_the_environments_own_principals(what, edit, risky):
    key = _golden("kms", "Key")
    reasons = _verdict(key, _changed(key, edit))
    assert bool(reasons) is risky, reasons
    if risky:
        assert reasons[0].startswith("policy narrowed, or widened beyond")


def _rule(**fields) -> dict:
    return {"Id": "Old", "Status": "Enabled", **fields}


def _bucket(*rules: dict) -> dict:
    return _r(BUCKET, LifecycleConfiguration={"Rules": list(rules)})


NONCURRENT = {"NoncurrentVersionExpiration": {"NoncurrentDays": 90}}
TLS_DENY = {
    "Sid": "TLS",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": "*",
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
OWN_READ = {
    "Sid": "Ops",
    "Effect": "Allow",
    "Principal": OWN_ROLE,
    "Action": "s3:GetObject",
    "Resource": "*",
}


def _bucket_policy(*statements: dict) -> dict:
    return _r(
        BUCKET_POLICY,
        Bucket="b",
        PolicyDocument={"Version": "2012-10-17", "Statement": list(statements)},
    )


# (what, deployed resource, new resource, reason expected or None when nothing is lost)
CASES = [
    # the KMS key
    ("key disabled", _r(KEY, Enabled=True), _r(KEY, Enabled=False), "key disabled: everything encrypted under it (the tables, the nonce, the baselines, the topic, the logs) becomes unreadable, and DynamoDB archives a table whose key stays inaccessible for more than seven days"),
    ("key disabled where Enabled was absent (on)", _r(KEY), _r(KEY, Enabled=False), "key disabled: everything encrypted under it (the tables, the nonce, the baselines, the topic, the logs) becomes unreadable, and DynamoDB archives a table whose key stays inaccessible for more than seven days"),
    ("key enabled", _r(KEY, Enabled=False), _r(KEY, Enabled=True), None),
    ("key description", _r(KEY, Description="a"), _r(KEY, Description="b"), None),
    ("key tags", _r(KEY, Tags=[{"Key": "a", "Value": "1"}]), _r(KEY, Tags=[]), None),
    ("rotation turned on", _r(KEY, EnableKeyRotation=False), _r(KEY, EnableKeyRotation=True), None),
    ("rotation turned off", _r(KEY, EnableKeyRotation=True), _r(KEY, EnableKeyRotation=False), "key rotation turned off"),
    ("deletion window lengthened", _r(KEY, PendingWindowInDays=7), _r(KEY, PendingWindowInDays=30), None),
    ("deletion window cut", _r(KEY, PendingWindowInDays=30), _r(KEY, PendingWindowInDays=7), "the key's deletion waiting period cut from 30 to 7 days"),
    ("key rotation period (never reviewed)", _r(KEY, RotationPeriodInDays=365), _r(KEY, RotationPeriodInDays=90), "RotationPeriodInDays changes, and it is not on the reviewed safe list (README, Data safety)"),
    ("the alias moved to another key", _r(ALIAS, AliasName="alias/a", TargetKeyId="k1"), _r(ALIAS, AliasName="alias/a", TargetKeyId="k2"), "TargetKeyId changes, and it is not on the reviewed safe list (README, Data safety)"),
    ("the alias's DeletionPolicy taken back (adopt's import set it)", {**_r(ALIAS, AliasName="alias/a"), "DeletionPolicy": "Retain"}, _r(ALIAS, AliasName="alias/a"), None),
    ("the key's DeletionPolicy Retain -> Delete", {**_r(KEY), "DeletionPolicy": "Retain"}, _r(KEY), "DeletionPolicy Retain -> Delete: the data would no longer be kept"),
    # tables
    ("PITR period cut", _r(TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 35}), _r(TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 7}), "point-in-time recovery period cut from 35 to 7 days"),
    ("PITR period cut from the default (35)", _r(TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}), _r(TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 10}), "point-in-time recovery period cut from 35 to 10 days"),
    ("PITR period lengthened", _r(TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 7}), _r(TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}), None),
    ("PITR turned on with a short period", _r(TABLE), _r(TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 1}), None),
    ("deletion protection turned on", _r(TABLE, DeletionProtectionEnabled=False), _r(TABLE, DeletionProtectionEnabled=True), None),
    ("TTL turned on", _r(TABLE), _r(TABLE, TimeToLiveSpecification={"AttributeName": "ttl", "Enabled": True}), "the table's TTL changes (DynamoDB deletes items by it)"),
    ("an unknown property added by hand", _r(TABLE, TableName="t"), _r(TABLE, TableName="t", ArchivalPolicy={"After": 1}), "ArchivalPolicy changes, and it is not on the reviewed safe list (README, Data safety)"),
    ("table encryption changed", _r(TABLE, SSESpecification={"SSEEnabled": True}), _r(TABLE, SSESpecification={"SSEEnabled": False}), "SSESpecification changes, and it is not on the reviewed safe list (README, Data safety)"),
    ("table tags", _r(TABLE, Tags=[]), _r(TABLE, Tags=[{"Key": "a", "Value": "b"}]), None),
    # the bucket's lifecycle
    ("a rule's ExpirationDate added", _bucket(_rule(**NONCURRENT)), _bucket(_rule(**NONCURRENT, ExpirationDate="2027-01-01T00:00:00Z")), "lifecycle rules lose objects: Old ExpirationDate added"),
    ("a rule Disabled -> Enabled", _bucket({**_rule(**NONCURRENT), "Status": "Disabled"}), _bucket(_rule(**NONCURRENT)), "lifecycle rules lose objects: lifecycle rule Old now applies (NoncurrentVersionExpiration)"),
    ("a rule Enabled -> Disabled", _bucket(_rule(**NONCURRENT)), _bucket({**_rule(**NONCURRENT), "Status": "Disabled"}), None),
    ("a rule removed", _bucket(_rule(**NONCURRENT)), _bucket(), None),
    ("a rule's Prefix widened", _bucket(_rule(**NONCURRENT, Prefix="tmp/")), _bucket(_rule(**NONCURRENT, Prefix="")), 'lifecycle rules lose objects: Old applies to other objects (now {"Prefix": ""})'),
    ("a rule's Filter widened", _bucket(_rule(**NONCURRENT, Filter={"Prefix": "tmp/"})), _bucket(_rule(**NONCURRENT, Filter={})), "lifecycle rules lose objects: Old applies to other objects (now {})"),
    ("a rule's Filter narrowed", _bucket(_rule(**NONCURRENT, Filter={"Prefix": "tmp/"})), _bucket(_rule(**NONCURRENT, Filter={"Prefix": "tmp/old/"})), None),
    ("a rule that only aborts uploads added", _bucket(), _bucket(_rule(AbortIncompleteMultipartUpload={"DaysAfterInitiation": 7})), None),
    ("a transition added", _bucket(_rule(**NONCURRENT)), _bucket(_rule(**NONCURRENT, Transitions=[{"StorageClass": "GLACIER", "TransitionInDays": 30}])), "lifecycle rules lose objects: Old Transitions added"),
    # the bucket policy
    ("the TLS deny removed (widened for everyone)", _bucket_policy(TLS_DENY), _bucket_policy(), "policy narrowed, or widened beyond the environment's own principals: no longer denies everyone s3:*"),
    ("reads granted to a role of the environment's own account", _bucket_policy(TLS_DENY), _bucket_policy(TLS_DENY, OWN_READ), None),
    ("reads granted to everyone", _bucket_policy(TLS_DENY), _bucket_policy(TLS_DENY, {**OWN_READ, "Principal": "*"}), "policy narrowed, or widened beyond the environment's own principals: now allows everyone s3:getobject"),
    ("a policy given as text no one can read", _bucket_policy(TLS_DENY), _r(BUCKET_POLICY, Bucket="b", PolicyDocument="{not json"), "the policy changes in a form that cannot be compared"),
    # the log group
    ("log group key changed", _r(LOGS, KmsKeyId="k1"), _r(LOGS, KmsKeyId="k2"), "the log group's key changes (events before it stay readable only under the old key)"),
    ("log group key taken away", _r(LOGS, KmsKeyId="k1"), _r(LOGS), "the log group's key changes (events before it stay readable only under the old key)"),
    ("log group encrypted where it was not", _r(LOGS), _r(LOGS, KmsKeyId="k1"), None),
    ("log group tags", _r(LOGS, Tags=[]), _r(LOGS, Tags=[{"Key": "a", "Value": "b"}]), None),
]  # fmt: skip


@pytest.mark.parametrize(("what", "deployed", "new", "reason"), CASES, ids=[c[0] for c in CASES])
def test_in_place_allow_list(what, deployed, new, reason):
    assert _verdict(deployed, new) == ([reason] if reason else [])


def test_every_stateful_type_has_a_reviewed_list():
    """A stateful type without a list would pass every change unjudged."""
    judged = set(SAFE) | {"AWS::CloudFormation::Stack"}
    assert judged == STATEFUL_TYPES
    assert set(VALUE_RULES) == set(SAFE)
    for kind, entries in SAFE.items():
        for name, why in entries.items():
            assert len(why) > 20, f"{kind} {name}: a safe entry carries its reason"
            assert name not in VALUE_RULES[kind], f"{kind} {name}: safe whatever the value?"


def _detail(
    name: str, source: str = "DirectModification", evaluation: str = "Static"
) -> PropertyDetail:
    return PropertyDetail(
        name, source, evaluation, "KmsKeyArn" if source == "ParameterReference" else ""
    )


# (what, type, details, reasons expected from the change set's row alone)
ROWS = [
    ("a property judged by value, in the template's text", TABLE, (_detail("PointInTimeRecoverySpecification"),), []),
    ("the same, driven by a parameter", TABLE, (_detail("SSESpecification", "ParameterReference"),), ["SSESpecification changes, and it is not on the reviewed safe list (README, Data safety)"]),
    ("a value-judged property driven by a parameter", LOGS, (_detail("RetentionInDays", "ParameterReference"),), ["RetentionInDays changes by a value the templates do not show (ParameterReference KmsKeyArn)"]),
    ("a value-judged property known only at execution", KEY, (_detail("KeyPolicy", "ResourceReference", "Dynamic"),), ["KeyPolicy changes by a value the templates do not show (ResourceReference) known only at execution (Dynamic)"]),
    ("a safe property driven by a parameter", KEY, (_detail("Description", "ParameterReference"),), []),
    ("an unknown property", BUCKET, (_detail("AccelerateConfiguration"),), ["AccelerateConfiguration changes, and it is not on the reviewed safe list (README, Data safety)"]),
    ("a drift-aware reset of the drift status only", TABLE, (_detail("BillingMode", "NoModification"),), []),
]  # fmt: skip


@pytest.mark.parametrize(("what", "kind", "details", "reasons"), ROWS, ids=[r[0] for r in ROWS])
def test_change_set_rows_are_judged_too(what, kind, details, reasons):
    assert row_reasons(kind, details) == reasons
    risk = classify_change(ChangeAction.MODIFY, kind, Replacement.FALSE, details)
    assert risk is (Risk.LOSES_DATA if reasons else Risk.SAFE)


def test_the_alias_and_the_bucket_policy_are_stateful():
    for kind in (ALIAS, BUCKET_POLICY):
        assert classify_change(ChangeAction.REMOVE, kind, "") is Risk.DELETES_DATA
        assert classify_change(ChangeAction.MODIFY, kind, Replacement.TRUE) is Risk.REPLACES_DATA
