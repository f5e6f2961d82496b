"""The root stack: nests one stack per service, wires them with GetAtt Outputs and parameters."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from troposphere import GetAtt, Join, Parameter, Ref, Sub, Template
from troposphere.cloudformation import Stack

from mirror_infra import contract
from mirror_infra.config import EnvConfig
from templates_src import dynamodb, iam, kms, monitoring, ssm, storage
from templates_src.common import new_template, output

# logical id of the nested stack -> the module that renders its template, in dependency order
SERVICES: dict[str, Callable[[EnvConfig], Template]] = {
    "Kms": kms.template,
    "Dynamodb": dynamodb.template,
    "Monitoring": monitoring.template,
    "Storage": storage.template,
    "Iam": iam.template,
}


def _out(stack: str, name: str) -> GetAtt:
    return GetAtt(stack, f"Outputs.{name}")


def template(cfg: EnvConfig, files: Mapping[str, str]) -> Template:
    """The root template; `files` maps each nested stack's logical id to its built file name."""
    t = new_template(cfg, "root stack")
    bucket = t.add_parameter(
        Parameter(
            "ArtifactsBucket",
            Type="String",
            Description="S3 bucket holding the nested templates (mirror-infra bootstrap)",
            AllowedPattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
        )
    )
    prefix = t.add_parameter(
        Parameter(
            "ArtifactsPrefix",
            Type="String",
            Description="Key prefix of the nested templates, empty or ending in '/'",
            Default="",
            AllowedPattern=r"^$|^[0-9A-Za-z!_.*'()/-]*/$",
        )
    )
    email = t.add_parameter(
        Parameter(
            "AlertEmail",
            Type="String",
            Description="Email address subscribed to ops alerts; empty for none",
            Default=cfg.alert_email,
            AllowedPattern=r"^$|^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$",
        )
    )
    services = t.add_parameter(
        Parameter(
            "AppRoleTrustedServices",
            Type="CommaDelimitedList",
            Description="Service principals that may assume the application role",
            Default=",".join(cfg.app_role.trusted_services),
        )
    )
    key_arn = _out("Kms", "KeyArn")
    tables = [spec.logical_id for spec in contract.TABLES]
    # SPEC §2 fixes the table names: handed over as names, not as Dynamodb's outputs, so that
    # Monitoring need not wait for Dynamodb and AWS's nested change sets need not guess
    # (cloudformation-coverage-roadmap issue 759); ARNs stay GetAtt
    table_names = {spec.logical_id: spec.name(cfg) for spec in contract.TABLES}
    parameters: dict[str, dict[str, object]] = {
        "Kms": {},
        "Dynamodb": {"KmsKeyArn": key_arn},
        "Monitoring": {
            "KmsKeyArn": key_arn,
            "AlertEmail": Ref(email),
            **{f"{table}Name": table_names[table] for table in tables},
        },
        "Storage": {"KmsKeyArn": key_arn},
        "Iam": {
            "KmsKeyArn": key_arn,
            **{f"{table}Arn": _out("Dynamodb", f"{table}Arn") for table in tables},
            "BucketArn": _out("Storage", "BucketArn"),
            "LogGroupArn": _out("Monitoring", "LogGroupArn"),
            "TrustedServices": Join(",", Ref(services)),
        },
    }
    for logical_id in SERVICES:
        t.add_resource(
            Stack(
                logical_id,
                TemplateURL=Sub(
                    "https://${ArtifactsBucket}.s3.${AWS::Region}.${AWS::URLSuffix}/"
                    f"${{ArtifactsPrefix}}{files[logical_id]}"
                ),
                **({"Parameters": parameters[logical_id]} if parameters[logical_id] else {}),
            )
        )
    del bucket, prefix  # referenced by name inside Fn::Sub

    output(t, "KmsKeyArn", key_arn, "KMS key ARN for encryption")
    output(t, "KmsKeyAlias", _out("Kms", "KeyAlias"), "KMS key alias")
    for spec in contract.TABLES:
        stem = spec.logical_id.removesuffix("Table")
        output(
            t, f"{stem}TableName", _out("Dynamodb", f"{stem}TableName"), f"The {spec.suffix} table"
        )
    ssm.add_outputs(cfg, t)
    output(t, "SnsTopicArn", _out("Monitoring", "TopicArn"), "Ops alerts topic")
    output(t, "DashboardName", _out("Monitoring", "DashboardName"), "CloudWatch dashboard name")
    output(t, "LogGroupName", _out("Monitoring", "LogGroupName"), "Application log group")
    output(t, "BaselinesBucketName", _out("Storage", "BucketName"), "S3 bucket for baselines")
    output(t, "AppRoleArn", _out("Iam", "RoleArn"), "Application IAM role")
    return t
