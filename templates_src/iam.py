"""The application role: least privilege on this environment's resources, named by intent."""

from __future__ import annotations

from awacs import cloudwatch as acw
from awacs import dynamodb as addb
from awacs import kms as akms
from awacs import logs as alogs
from awacs import s3 as as3
from awacs import ssm as assm
from awacs import sts
from awacs.aws import (
    Allow,
    Condition,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
)
from troposphere import GetAtt, Parameter, Ref, Sub, Template, iam

from mirror_infra.config import EnvConfig
from mirror_infra.names import REGION_VAR
from templates_src.common import (
    arn,
    key_arn_parameter,
    new_template,
    output,
    string_parameter,
    tags,
)
from templates_src.dynamodb import TABLES


def grant_table_read_write(table_arns: list[object]) -> Statement:
    """CRUD and Query on the tables and their indexes."""
    return Statement(
        Sid="TablesReadWrite",
        Effect=Allow,
        Action=[
            addb.GetItem,
            addb.BatchGetItem,
            addb.PutItem,
            addb.UpdateItem,
            addb.DeleteItem,
            addb.BatchWriteItem,
            addb.ConditionCheckItem,
            addb.Query,
            addb.DescribeTable,
        ],
        Resource=[*table_arns, *(Sub("${Arn}/index/*", Arn=a) for a in table_arns)],
    )


def grant_nonce_read(cfg: EnvConfig) -> Statement:
    """Read every parameter under the environment's /guardian path (all nonce versions)."""
    path = cfg.names.nonce_path.lstrip("/")
    return Statement(
        Sid="GuardianParametersRead",
        Effect=Allow,
        Action=[assm.GetParameter, assm.GetParameters, assm.GetParametersByPath],
        Resource=[arn("ssm", f"parameter/{path}"), arn("ssm", f"parameter/{path}/*")],
    )


def grant_key_use_via(key_arn: object, services: tuple[str, ...]) -> Statement:
    """Use the key, but only through the named services (never directly)."""
    return Statement(
        Sid="KeyUseViaServices",
        Effect=Allow,
        Action=[akms.Decrypt, akms.Encrypt, akms.Action("GenerateDataKey*"), akms.DescribeKey],
        Resource=[key_arn],
        Condition=Condition(
            StringEquals(
                {
                    "kms:ViaService": [
                        Sub(f"{service}.${{AWS::Region}}.${{AWS::URLSuffix}}")
                        for service in services
                    ]
                }
            )
        ),
    )


def grant_bucket_read_write(bucket_arn: object) -> list[Statement]:
    return [
        Statement(
            Sid="BaselinesList",
            Effect=Allow,
            Action=[as3.ListBucket],
            Resource=[bucket_arn],
        ),
        Statement(
            Sid="BaselinesReadWrite",
            Effect=Allow,
            Action=[as3.GetObject, as3.GetObjectVersion, as3.PutObject],
            Resource=[Sub("${Arn}/*", Arn=bucket_arn)],
        ),
    ]


def grant_put_metrics(cfg: EnvConfig) -> Statement:
    return Statement(
        Sid="MetricsInOwnNamespace",
        Effect=Allow,
        Action=[acw.PutMetricData],
        # PutMetricData has no resource-level permissions: AWS requires "*"; the namespace
        # condition is what limits it.
        Resource=["*"],
        Condition=Condition(StringEquals({"cloudwatch:namespace": cfg.names.metric_namespace})),
    )


def grant_log_writes(log_group_arn: object) -> Statement:
    # a log group's Arn attribute ends in ":*", which also covers its log streams
    return Statement(
        Sid="AppLogWrites",
        Effect=Allow,
        Action=[alogs.CreateLogStream, alogs.PutLogEvents],
        Resource=[log_group_arn],
    )


def trust_policy(cfg: EnvConfig, services: object) -> PolicyDocument:
    statements = [
        Statement(
            Sid="TrustedServices",
            Effect=Allow,
            Principal=Principal("Service", services),
            Action=[sts.AssumeRole],
        )
    ]
    if cfg.app_role.trusted_role_arns:
        statements.append(
            Statement(
                Sid="TrustedRoles",
                Effect=Allow,
                Principal=Principal("AWS", list(cfg.app_role.trusted_role_arns)),
                Action=[sts.AssumeRole],
            )
        )
    return PolicyDocument(Version="2012-10-17", Statement=statements)


def template(cfg: EnvConfig) -> Template:
    t = new_template(cfg, "application IAM role")
    key_arn = key_arn_parameter(t)
    table_arns = [
        Ref(string_parameter(t, f"{spec.logical_id}Arn", f"ARN of the {spec.suffix} table"))
        for spec in TABLES
    ]
    bucket_arn = Ref(string_parameter(t, "BucketArn", "ARN of the baselines bucket"))
    log_group_arn = Ref(string_parameter(t, "LogGroupArn", "ARN of the application log group"))
    services = t.add_parameter(
        Parameter(
            "TrustedServices",
            Type="CommaDelimitedList",
            Description="Service principals that may assume the application role",
            Default=",".join(cfg.app_role.trusted_services),
        )
    )
    policy = PolicyDocument(
        Version="2012-10-17",
        Statement=[
            grant_table_read_write(table_arns),
            grant_nonce_read(cfg),
            grant_key_use_via(Ref(key_arn), ("ssm", "dynamodb", "s3")),
            *grant_bucket_read_write(bucket_arn),
            grant_put_metrics(cfg),
            grant_log_writes(log_group_arn),
        ],
    )
    role = t.add_resource(
        iam.Role(
            "AppRole",
            RoleName=Sub(cfg.names.app_role(REGION_VAR)),
            Description=f"Phase Mirror {cfg.name} application",
            AssumeRolePolicyDocument=trust_policy(cfg, Ref(services)),
            Policies=[iam.Policy(PolicyName="phase-mirror-app", PolicyDocument=policy)],
            MaxSessionDuration=3600,
            Tags=tags(cfg),
        )
    )
    output(t, "RoleArn", GetAtt(role, "Arn"), "ARN of the application role")
    output(t, "RoleName", Ref(role), "Name of the application role")
    return t
