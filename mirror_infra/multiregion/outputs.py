"""What the root stack's outputs must be in one region: the fixed names of SPEC §2, and ARNs
that belong to that region and account (so a stack never reports another region's resource)."""

from __future__ import annotations

import re

from mirror_infra.aws import partitions
from mirror_infra.aws.partitions import Partition
from mirror_infra.config import EnvConfig
from mirror_infra.names import SEED_OUTPUTS, RootOutput


def _arn(
    partition: Partition, service: str, region: str, account: str, rest: str
) -> re.Pattern[str]:
    """An ARN of `partition` (the tested region's, from botocore), matched whole."""
    return re.compile(
        ":".join(
            ("arn", re.escape(partition.name), service, re.escape(region), re.escape(account), rest)
        )
    )


def expected(cfg: EnvConfig, region: str, account: str) -> dict[str, str | re.Pattern[str]]:
    """Root output key -> the exact value, or a pattern the value must match."""
    names = cfg.names
    partition = partitions.of_region(region)
    return {
        RootOutput.KMS_KEY_ARN: _arn(partition, "kms", region, account, r"key/[0-9a-f-]+"),
        RootOutput.FP_EVENTS_TABLE_NAME: names.fp_events_table,
        RootOutput.CONSENT_TABLE_NAME: names.consent_table,
        RootOutput.BLOCK_COUNTER_TABLE_NAME: names.block_counter_table,
        RootOutput.NONCE_PARAMETER_NAME: names.nonce_parameter(1),
        RootOutput.SNS_TOPIC_ARN: _arn(partition, "sns", region, account, re.escape(names.topic)),
        RootOutput.DASHBOARD_NAME: names.dashboard(region),
        RootOutput.BASELINES_BUCKET_NAME: names.baselines_bucket(account, region),
        RootOutput.APP_ROLE_ARN: _arn(
            partition, "iam", "", account, r"role/(.+/)?" + re.escape(names.app_role(region))
        ),
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
        elif isinstance(want, re.Pattern) and not want.fullmatch(value):
            found.append(f"output {key} is {value!r}, not an ARN of {region} in {account}")
    return list(dict.fromkeys(found))


def account_of(stack_id: str) -> str:
    """The account in a CloudFormation stack ARN ('' when it is not one)."""
    parts = stack_id.split(":")
    return parts[4] if len(parts) > 5 else ""
