"""The fixed names the Phase Mirror application finds its resources by (SPEC §2).

One place, used by the templates and by the tool, so the two can never disagree.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum

NONCE_BASENAME = "redaction_nonce"
NONCE_BYTES = 32  # each nonce is 64 hex characters


class RootOutput(StrEnum):
    """The root stack's output keys: what the templates write and the tool reads."""

    KMS_KEY_ARN = "KmsKeyArn"
    KMS_KEY_ALIAS = "KmsKeyAlias"
    FP_EVENTS_TABLE_NAME = "FpEventsTableName"
    CONSENT_TABLE_NAME = "ConsentTableName"
    BLOCK_COUNTER_TABLE_NAME = "BlockCounterTableName"
    NONCE_PARAMETER_NAME = "NonceParameterName"
    NONCE_PARAMETER_PATH = "NonceParameterPath"
    SNS_TOPIC_ARN = "SnsTopicArn"
    DASHBOARD_NAME = "DashboardName"
    LOG_GROUP_NAME = "LogGroupName"
    BASELINES_BUCKET_NAME = "BaselinesBucketName"
    APP_ROLE_ARN = "AppRoleArn"


# the output naming each table, by the table's name suffix (contract.TABLES)
TABLE_NAME_OUTPUTS = {
    "fp-events": RootOutput.FP_EVENTS_TABLE_NAME,
    "consent": RootOutput.CONSENT_TABLE_NAME,
    "block-counter": RootOutput.BLOCK_COUNTER_TABLE_NAME,
}

# the output contract: the seed's output names -> the root stack's output keys
SEED_OUTPUTS = {
    "kms_key_arn": RootOutput.KMS_KEY_ARN,
    "fp_events_table_name": RootOutput.FP_EVENTS_TABLE_NAME,
    "consent_table_name": RootOutput.CONSENT_TABLE_NAME,
    "block_counter_table_name": RootOutput.BLOCK_COUNTER_TABLE_NAME,
    "nonce_parameter_name": RootOutput.NONCE_PARAMETER_NAME,
    "sns_topic_arn": RootOutput.SNS_TOPIC_ARN,
    "dashboard_name": RootOutput.DASHBOARD_NAME,
    "baselines_bucket_name": RootOutput.BASELINES_BUCKET_NAME,
}

# SPEC §2: environment names are at most 12 characters, so every name fits AWS's limits
ENV_NAME_MAX = 12
# what a template passes for the account and the region, inside Fn::Sub
ACCOUNT_VAR = "${AWS::AccountId}"
REGION_VAR = "${AWS::Region}"


class ThrowawayEnv(StrEnum):
    """The kinds of test run that deploy an environment of their own; each value is a name
    prefix that no real environment may use (`params/` refuses it)."""

    UPGRADE = "ut-"
    TASKCAT = "tc-"
    PROOF = "pf-"  # make aws-proof (proof/)

    def env_name(self) -> str:
        """A fresh environment name for one run: the prefix and 8 random hex characters."""
        name = f"{self.value}{secrets.token_hex(4)}"
        assert len(name) <= ENV_NAME_MAX
        return name

    @classmethod
    def of(cls, env: str) -> ThrowawayEnv | None:
        """The kind of test run `env` belongs to, or None for a real environment."""
        return next((kind for kind in cls if env.startswith(kind.value)), None)


@dataclass(frozen=True)
class Names:
    env: str
    # an existing bucket adopted as the baselines bucket (params `baselines_bucket`)
    bucket: str = ""

    @property
    def prefix(self) -> str:
        return f"mirror-dissonance-{self.env}"

    @property
    def root_stack(self) -> str:
        return self.prefix

    @property
    def key_alias(self) -> str:
        return f"alias/{self.prefix}"

    @property
    def fp_events_table(self) -> str:
        return f"{self.prefix}-fp-events"

    @property
    def consent_table(self) -> str:
        return f"{self.prefix}-consent"

    @property
    def block_counter_table(self) -> str:
        return f"{self.prefix}-block-counter"

    @property
    def tables(self) -> tuple[str, str, str]:
        return (self.fp_events_table, self.consent_table, self.block_counter_table)

    @property
    def nonce_path(self) -> str:
        """The SSM path under which every nonce version lives."""
        return f"/guardian/{self.env}"

    def nonce_parameter(self, version: int = 1) -> str:
        return f"{self.nonce_path}/{NONCE_BASENAME}_v{version}"

    @property
    def topic(self) -> str:
        return f"{self.prefix}-ops-alerts"

    @property
    def log_group(self) -> str:
        return f"/mirror-dissonance/{self.env}/app"

    def dashboard(self, region: str) -> str:
        # dashboards are account-global: the region lets every region hold the environment
        return f"{self.prefix}-{region}"

    @property
    def metric_namespace(self) -> str:
        return f"PhaseMirror/{self.env}"

    def alarm(self, suffix: str) -> str:
        return f"{self.prefix}-{suffix}"

    def baselines_bucket(self, account: str, region: str) -> str:
        # S3 names are global and at most 63 characters: short prefix, account and region
        return self.bucket or f"mirror-{self.env}-baselines-{account}-{region}"

    def app_role(self, region: str) -> str:
        # IAM is global: the region keeps the per-region stacks of taskcat from clashing
        return f"{self.prefix}-app-{region}"

    @staticmethod
    def artifacts_bucket(account: str, region: str) -> str:
        return f"mirror-infra-artifacts-{account}-{region}"
