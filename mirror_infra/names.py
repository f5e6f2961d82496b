"""The fixed names the Phase Mirror application finds its resources by (SPEC §2).

One place, used by the templates and by the tool, so the two can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

NONCE_BASENAME = "redaction_nonce"
NONCE_BYTES = 32  # each nonce is 64 hex characters


@dataclass(frozen=True)
class Names:
    env: str

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

    @property
    def dashboard(self) -> str:
        return self.prefix

    @property
    def metric_namespace(self) -> str:
        return f"PhaseMirror/{self.env}"

    def alarm(self, suffix: str) -> str:
        return f"{self.prefix}-{suffix}"

    def baselines_bucket(self, account: str, region: str) -> str:
        return f"{self.prefix}-baselines-{account}-{region}"

    def app_role(self, region: str) -> str:
        # IAM is global: the region keeps the per-region stacks of taskcat from clashing
        return f"{self.prefix}-app-{region}"

    @staticmethod
    def artifacts_bucket(account: str, region: str) -> str:
        return f"mirror-infra-artifacts-{account}-{region}"
