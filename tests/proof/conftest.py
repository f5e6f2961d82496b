"""An AWS profile whose `endpoint_url` is the local AWS: the proof runs through the
real-account code path (a profile, never --local) against it. botocore reads `endpoint_url`
from a profile (the SDKs' service-specific endpoints page,
https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html)."""

from __future__ import annotations

from pathlib import Path

import pytest

PROFILE = "proof"


@pytest.fixture
def profile(tmp_path: Path, local_aws, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Scratch AWS config and credentials files naming the profile; the variables that point
    botocore at them are set for this test (and returned for subprocesses)."""
    config = tmp_path / "aws-config"
    config.write_text(
        f"[profile {PROFILE}]\nregion = {local_aws.region}\nendpoint_url = {local_aws.url}\n"
    )
    credentials = tmp_path / "aws-credentials"
    credentials.write_text(
        f"[{PROFILE}]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    variables = {
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
    }
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "MIRROR_INFRA_LOCAL", "AWS_ACCESS_KEY_ID"):
        monkeypatch.delenv(name, raising=False)
    return variables
