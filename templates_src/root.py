"""The root stack: nests one stack per service and wires them with parameters.

SPEC §2: a value with a fixed name (a table, the bucket, the log group) crosses stacks as that
name, and the stack that needs its ARN builds it with Fn::Sub; only the key's ARN, which no name
fixes, crosses through the Kms stack's outputs. AWS cannot resolve another nested stack's outputs
when it makes a nested change set and then shows changes, even replacements, where none exist
(cloudformation-coverage-roadmap issue 759, AWS's own tracker; no documentation page covers it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from troposphere import GetAtt, Join, Parameter, Ref, Sub, Template
from troposphere.cloudformation import Stack

from mirror_infra import contract
from mirror_infra.config import EnvConfig
from mirror_infra.names import TABLE_NAME_OUTPUTS, RootOutput
from templates_src import dynamodb, iam, kms, monitoring, ssm, storage
from templates_src.common import KEY_ARN_PARAMETER, new_template, output

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
    table_names = {f"{spec.logical_id}Name": spec.name(cfg) for spec in contract.TABLES}
    parameters: dict[str, dict[str, object]] = {
        "Kms": {},
        "Dynamodb": {KEY_ARN_PARAMETER: key_arn},
        "Monitoring": {KEY_ARN_PARAMETER: key_arn, "AlertEmail": Ref(email), **table_names},
        "Storage": {KEY_ARN_PARAMETER: key_arn},
        "Iam": {
            KEY_ARN_PARAMETER: key_arn,
            **table_names,
            "BucketName": storage.baselines_bucket_name(cfg),
            "LogGroupName": cfg.names.log_group,
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

    output(t, RootOutput.KMS_KEY_ARN, key_arn, "KMS key ARN for encryption")
    output(t, RootOutput.KMS_KEY_ALIAS, _out("Kms", "KeyAlias"), "KMS key alias")
    for spec in contract.TABLES:
        stem = spec.logical_id.removesuffix("Table")
        output(
            t,
            TABLE_NAME_OUTPUTS[spec.suffix],
            _out("Dynamodb", f"{stem}TableName"),
            f"The {spec.suffix} table",
        )
    ssm.add_outputs(cfg, t)
    output(t, RootOutput.SNS_TOPIC_ARN, _out("Monitoring", "TopicArn"), "Ops alerts topic")
    output(
        t,
        RootOutput.DASHBOARD_NAME,
        _out("Monitoring", "DashboardName"),
        "CloudWatch dashboard name",
    )
    output(
        t, RootOutput.LOG_GROUP_NAME, _out("Monitoring", "LogGroupName"), "Application log group"
    )
    output(
        t,
        RootOutput.BASELINES_BUCKET_NAME,
        _out("Storage", "BucketName"),
        "S3 bucket for baselines",
    )
    output(t, RootOutput.APP_ROLE_ARN, _out("Iam", "RoleArn"), "Application IAM role")
    return t
