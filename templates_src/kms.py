"""The environment's customer-managed KMS key and its alias."""

from __future__ import annotations

from awacs import kms as akms
from awacs.aws import (
    Allow,
    ArnLike,
    Condition,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
)
from troposphere import GetAtt, Ref, Sub, Template
from troposphere import kms as tkms

from mirror_infra.config import EnvConfig
from templates_src.common import ACCOUNT_ROOT_ARN, new_template, output, protect, tags

# The actions AWS services need to use a key on a caller's behalf.
_USE = [
    akms.Encrypt,
    akms.Decrypt,
    akms.ReEncryptFrom,
    akms.ReEncryptTo,
    akms.Action("GenerateDataKey*"),
    akms.DescribeKey,
]
PENDING_WINDOW_DAYS = 30


def via_service_statement(sid: str, service: str) -> Statement:
    """Principals of this account may use the key, but only through `service` in this region."""
    return Statement(
        Sid=sid,
        Effect=Allow,
        Principal=Principal("AWS", Sub(ACCOUNT_ROOT_ARN)),
        Action=[*_USE, akms.CreateGrant],
        # Resource "*" in a key policy means "this key"; AWS requires it.
        Resource=["*"],
        Condition=Condition(
            StringEquals(
                {
                    "kms:ViaService": Sub(f"{service}.${{AWS::Region}}.${{AWS::URLSuffix}}"),
                    "kms:CallerAccount": Ref("AWS::AccountId"),
                }
            )
        ),
    )


def key_policy(cfg: EnvConfig) -> PolicyDocument:
    """Root administers; DynamoDB and SSM via service; Logs, SNS and CloudWatch for the topic."""
    return PolicyDocument(
        Version="2012-10-17",
        Statement=[
            Statement(
                Sid="AccountRootAdministers",
                Effect=Allow,
                Principal=Principal("AWS", Sub(ACCOUNT_ROOT_ARN)),
                # The AWS default key policy: without it IAM policies cannot grant use of the key
                # and a bad policy could make the key unmanageable.
                Action=[akms.Action("*")],
                Resource=["*"],
            ),
            via_service_statement("DynamoDBViaService", "dynamodb"),
            via_service_statement("SSMViaService", "ssm"),
            via_service_statement("S3ViaService", "s3"),
            Statement(
                Sid="CloudWatchLogsForThisAccountsLogGroups",
                Effect=Allow,
                Principal=Principal("Service", Sub("logs.${AWS::Region}.${AWS::URLSuffix}")),
                Action=_USE,
                Resource=["*"],
                Condition=Condition(
                    ArnLike(
                        {
                            "kms:EncryptionContext:aws:logs:arn": Sub(
                                "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:"
                                "log-group:*"
                            )
                        }
                    )
                ),
            ),
            Statement(
                Sid="SnsAndAlarmsForTheEncryptedTopic",
                Effect=Allow,
                Principal=Principal("Service", ["sns.amazonaws.com", "cloudwatch.amazonaws.com"]),
                Action=[akms.Decrypt, akms.Action("GenerateDataKey*")],
                Resource=["*"],
                Condition=Condition(StringEquals({"aws:SourceAccount": Ref("AWS::AccountId")})),
            ),
        ],
    )


def template(cfg: EnvConfig) -> Template:
    t = new_template(cfg, "KMS key")
    key = t.add_resource(
        protect(
            cfg,
            tkms.Key(
                "Key",
                Description=f"Phase Mirror {cfg.name}: DynamoDB, SSM, Logs, SNS and S3 encryption",
                EnableKeyRotation=True,
                PendingWindowInDays=PENDING_WINDOW_DAYS,
                KeyPolicy=key_policy(cfg),
                Tags=tags(cfg),
            ),
        )
    )
    alias = t.add_resource(
        tkms.Alias("KeyAlias", AliasName=cfg.names.key_alias, TargetKeyId=Ref(key))
    )
    output(t, "KeyArn", GetAtt(key, "Arn"), "ARN of the environment's KMS key")
    output(t, "KeyId", Ref(key), "ID of the environment's KMS key")
    output(t, "KeyAlias", Ref(alias), "Alias of the environment's KMS key")
    return t
