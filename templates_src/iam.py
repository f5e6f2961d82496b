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
    StringLike,
)
from troposphere import Equals, GetAtt, If, Join, Not, NoValue, Parameter, Ref, Sub, Template, iam

from mirror_infra import contract
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

HAS_TRUSTED_SERVICES = "HasTrustedServices"

# Every grant below answers a call the application's AWS adapters make (SPEC §2: they are the
# contract); tests/contract/test_app_role.py lists those calls and checks the role both ways.


def grant_fp_events(table_arn: object, indexes: tuple[str, ...]) -> list[Statement]:
    """Record false-positive events, read a rule's window, mark an event (the table); look
    events up by finding (Query on its indexes, nothing else)."""
    return [
        Statement(
            Sid="FpEventsRecordAndQuery",
            Effect=Allow,
            Action=[addb.PutItem, addb.Query, addb.UpdateItem],
            Resource=[table_arn],
        ),
        Statement(
            Sid="FpEventsFindByFinding",
            Effect=Allow,
            Action=[addb.Query],
            Resource=[Sub(f"${{Arn}}/index/{i}", Arn=table_arn) for i in indexes],
        ),
    ]


def grant_consent(table_arn: object) -> Statement:
    """Record and revoke consent (PutItem) and read an organisation's records (GetItem)."""
    return Statement(
        Sid="ConsentReadWrite",
        Effect=Allow,
        Action=[addb.GetItem, addb.PutItem],
        Resource=[table_arn],
    )


def grant_block_counter(table_arn: object) -> Statement:
    """Count circuit-breaker blocks: ADD to a counter (UpdateItem) and read it (GetItem)."""
    return Statement(
        Sid="BlockCounterCount",
        Effect=Allow,
        Action=[addb.GetItem, addb.UpdateItem],
        Resource=[table_arn],
    )


def grant_nonce_read(cfg: EnvConfig) -> list[Statement]:
    """Read a nonce version by name, and every version by path. Never write one: rotation is
    this tool's job (rotate-nonce), so the application cannot overwrite a nonce."""
    path = cfg.names.nonce_path.lstrip("/")
    return [
        Statement(
            Sid="NonceRead",
            Effect=Allow,
            Action=[assm.GetParameter],
            Resource=[arn("ssm", f"parameter/{path}/*")],
        ),
        Statement(
            Sid="NonceReadByPath",
            Effect=Allow,
            Action=[assm.GetParametersByPath],
            # GetParametersByPath is authorized against the requested path; the application
            # sends it with a trailing slash, AWS's examples show it without: both forms
            Resource=[arn("ssm", f"parameter/{path}"), arn("ssm", f"parameter/{path}/")],
        ),
    ]


def grant_key_use_via(key_arn: object, service: str, actions: list) -> Statement:
    """Use the key for `actions`, but only through `service` (never directly)."""
    return Statement(
        Sid=f"KeyUseVia{service.capitalize()}",
        Effect=Allow,
        Action=actions,
        Resource=[key_arn],
        Condition=Condition(
            StringEquals({"kms:ViaService": Sub(f"{service}.${{AWS::Region}}.${{AWS::URLSuffix}}")})
        ),
    )


def grant_key_use(key_arn: object) -> list[Statement]:
    """What the services that hold the application's data under the key ask KMS for with its
    permissions: SSM decrypts a SecureString it reads; S3 decrypts an object it reads and makes
    a data key for one it writes; DynamoDB uses the key of the tables it reads and writes."""
    return [
        grant_key_use_via(key_arn, "ssm", [akms.Decrypt]),
        grant_key_use_via(key_arn, "s3", [akms.Decrypt, akms.GenerateDataKey]),
        grant_key_use_via(
            key_arn,
            "dynamodb",
            [akms.Decrypt, akms.Encrypt, akms.Action("GenerateDataKey*"), akms.DescribeKey],
        ),
    ]


def grant_baselines(bucket_arn: object) -> list[Statement]:
    """Read and write baselines, and list a baseline's versions."""
    return [
        Statement(
            Sid="BaselinesList",
            Effect=Allow,
            # ListObjectVersions is authorized by s3:ListBucketVersions. s3:ListBucket makes S3
            # answer a missing baseline with NoSuchKey (404), which the application reads as
            # "no baseline yet"; without it S3 answers AccessDenied (403).
            Action=[as3.ListBucket, as3.ListBucketVersions],
            Resource=[bucket_arn],
        ),
        Statement(
            Sid="BaselinesReadWrite",
            Effect=Allow,
            Action=[as3.GetObject, as3.PutObject],
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
    # the log group's ARN ends in ":*", which also covers its log streams
    return Statement(
        Sid="AppLogWrites",
        Effect=Allow,
        Action=[alogs.CreateLogStream, alogs.PutLogEvents],
        Resource=[log_group_arn],
    )


def trust_github_actions(subjects: list[str]) -> Statement:
    """GitHub Actions workflows whose token's subject matches one of `subjects`, through the
    account's GitHub OIDC provider (named as docs/github-actions/ci-role.yaml names it; it must
    exist, and verify checks that it does), with STS as the token's audience."""
    host = contract.GITHUB_OIDC_HOST
    return Statement(
        Sid="TrustedGitHubActions",
        Effect=Allow,
        Principal=Principal("Federated", arn("iam", f"oidc-provider/{host}", region=False)),
        Action=[sts.AssumeRoleWithWebIdentity],
        Condition=Condition(
            [
                StringEquals({f"{host}:aud": contract.GITHUB_OIDC_AUDIENCE}),
                StringLike({f"{host}:sub": list(subjects)}),
            ]
        ),
    )


def trust_policy(cfg: EnvConfig, services: object) -> dict:
    """Who may assume the role: the services (a parameter; none when it is empty), the roles
    and the GitHub workflows that params name."""
    trusted_services = Statement(
        Sid="TrustedServices",
        Effect=Allow,
        Principal=Principal("Service", services),
        Action=[sts.AssumeRole],
    )
    statements: list[object] = [If(HAS_TRUSTED_SERVICES, trusted_services, NoValue)]
    if cfg.app_role.trusted_role_arns:
        statements.append(
            Statement(
                Sid="TrustedRoles",
                Effect=Allow,
                Principal=Principal("AWS", list(cfg.app_role.trusted_role_arns)),
                Action=[sts.AssumeRole],
            )
        )
    if cfg.app_role.github_oidc:
        statements.append(trust_github_actions(cfg.app_role.github_oidc))
    # a plain document: an awacs PolicyDocument takes no Fn::If among its statements
    return {"Version": "2012-10-17", "Statement": statements}


def _name_parameter(t: Template, name: str, what: str) -> str:
    """A name SPEC §2 fixes, passed in as that name; returns the `${...}` that Fn::Sub reads."""
    string_parameter(t, name, f"Name of {what}")
    return f"${{{name}}}"


def template(cfg: EnvConfig) -> Template:
    t = new_template(cfg, "application IAM role")
    key_arn = key_arn_parameter(t)
    # SPEC §2: each resource's name crosses stacks, its ARN built here from the name
    table_arns = {
        spec.logical_id: arn(
            "dynamodb",
            "table/" + _name_parameter(t, f"{spec.logical_id}Name", f"the {spec.suffix} table"),
        )
        for spec in contract.TABLES
    }
    fp_events = next(spec for spec in contract.TABLES if spec.logical_id == "FpEventsTable")
    bucket_arn = arn(
        "s3", _name_parameter(t, "BucketName", "the baselines bucket"), region=False, account=False
    )
    # as the log group's Arn attribute: ending in ":*", which also covers its log streams
    log_group_arn = arn(
        "logs", f"log-group:{_name_parameter(t, 'LogGroupName', 'the application log group')}:*"
    )
    services = t.add_parameter(
        Parameter(
            "TrustedServices",
            Type="CommaDelimitedList",
            Description="Service principals that may assume the application role",
            Default=",".join(cfg.app_role.trusted_services),
        )
    )
    # an empty list (params with no trusted_services) would be a statement without principals
    t.add_condition(HAS_TRUSTED_SERVICES, Not(Equals(Join("", Ref(services)), "")))
    policy = PolicyDocument(
        Version="2012-10-17",
        Statement=[
            *grant_fp_events(table_arns["FpEventsTable"], tuple(i.name for i in fp_events.indexes)),
            grant_consent(table_arns["ConsentTable"]),
            grant_block_counter(table_arns["BlockCounterTable"]),
            *grant_nonce_read(cfg),
            *grant_key_use(Ref(key_arn)),
            *grant_baselines(bucket_arn),
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
