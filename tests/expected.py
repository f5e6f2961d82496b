"""The names SPEC §2 fixes, written out here from the specification, independently of the
code under test (`mirror_infra.names`): a test that compares the two can fail."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExpectedNames:
    env: str

    @property
    def root_stack(self) -> str:
        return f"mirror-dissonance-{self.env}"

    @property
    def key_alias(self) -> str:
        return f"alias/mirror-dissonance-{self.env}"

    @property
    def fp_events_table(self) -> str:
        return f"mirror-dissonance-{self.env}-fp-events"

    @property
    def consent_table(self) -> str:
        return f"mirror-dissonance-{self.env}-consent"

    @property
    def block_counter_table(self) -> str:
        return f"mirror-dissonance-{self.env}-block-counter"

    @property
    def tables(self) -> tuple[str, str, str]:
        return (self.fp_events_table, self.consent_table, self.block_counter_table)

    def nonce_parameter(self, version: int = 1) -> str:
        return f"/guardian/{self.env}/redaction_nonce_v{version}"

    @property
    def log_group(self) -> str:
        return f"/mirror-dissonance/{self.env}/app"

    def alarm(self, suffix: str) -> str:
        return f"mirror-dissonance-{self.env}-{suffix}"

    def baselines_bucket(self, account: str, region: str) -> str:
        return f"mirror-{self.env}-baselines-{account}-{region}"
