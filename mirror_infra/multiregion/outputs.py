"""What the root stack's outputs must be in one region: the fixed names of SPEC §2, and ARNs
that belong to that region and account (so a stack never reports another region's resource)."""

from __future__ import annotations

import re

from mirror_infra.config import EnvConfig
from mirror_infra.names import SEED_OUTPUTS

_ARN = r"arn:aws[a-z-]*:{service}:{region}:{account}:{rest}"


def _arn(service: str, region: str, account: str, rest: str) -> re.Pattern[str]:
    return re.compile(
        "^"
        + _ARN.format(
            service=service, region=re.escape(region), account=re.escape(account), rest=rest
        )
        + "$"
    )


def expected(cfg: EnvConfig, region: str, account: str) -> dict[str, str | re.Pattern[str]]:
    """Root output key -> the exact value, or a pattern the value must match."""
    names = cfg.names
    return {
        "KmsKeyArn": _arn("kms", region, account, r"key/[0-9a-f-]+"),
        "FpEventsTableName": names.fp_events_table,
        "ConsentTableName": names.consent_table,
        "BlockCounterTableName": names.block_counter_table,
        "NonceParameterName": names.nonce_parameter(1),
        "SnsTopicArn": _arn("sns", region, account, re.escape(names.topic)),
        "DashboardName": names.dashboard(region),
        "BaselinesBucketName": names.baselines_bucket(account, region),
        "AppRoleArn": _arn("iam", "", account, r"role/(.+/)?" + re.escape(names.app_role(region))),
    }


def problems(cfg: EnvConfig, region: str, account: str, outputs: dict[str, str]) -> list[str]:
    """Every way `outputs` differ from what the environment must report in `region`."""
    found = []
    for key in SEED_OUTPUTS.values():
        if not outputs.get(key):
            found.append(f"output {key} is missing")
    for key, want in expected(cfg, region, account).items():
        value = outputs.get(key)
        if not value:
            continue
        if isinstance(want, str) and value != want:
            found.append(f"output {key} is {value!r}, expected {want!r}")
        elif isinstance(want, re.Pattern) and not want.match(value):
            found.append(f"output {key} is {value!r}, not an ARN of {region} in {account}")
    return list(dict.fromkeys(found))


def account_of(stack_id: str) -> str:
    """The account in a CloudFormation stack ARN ('' when it is not one)."""
    parts = stack_id.split(":")
    return parts[4] if len(parts) > 5 else ""
